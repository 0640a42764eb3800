/**
 * PostgreSQL: a claim stamps its jobs' start after it has counted the active
 * jobs, under the queue's lock (issue 33, item 13). Otherwise a claim could
 * read the time, be held up, then count a job as finished that finished after
 * that time: the recorded history would show the new job started before the
 * old one ended, more jobs active at once than the limit allows.
 *
 * The test holds the claim up between its queue lock and its count of active
 * jobs (a third session holds the jobs table), and finishes the running job
 * in that gap, stamped with the time then (a completion whose transaction
 * began after the claim read the clock). The job that takes the freed slot
 * must not have started before that.
 *
 * SQLite has no such gap: a claim reads the time inside its IMMEDIATE
 * transaction, after it has the database's one write lock, so no completion
 * can commit between its time and its counts.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import pg from 'pg'
import { Docket } from '../../src/index.js'
import { until } from '../support/helpers.js'
import { freshPostgresSchema } from '../support/postgres.js'

describe('PostgreSQL: a claim is stamped after its counts', () => {
  let target: Awaited<ReturnType<typeof freshPostgresSchema>> | undefined
  let docket: Docket | undefined
  let session: pg.Client | undefined
  after(async () => {
    await session?.end().catch(() => {})
    await docket?.close()
    await target?.drop()
  })

  it('the job that takes a freed slot started no earlier than the finish of the job it took it from', async () => {
    target = await freshPostgresSchema()
    docket = await Docket.open(target.url)
    await docket.createQueue({ name: 'one', concurrency: 1 })
    await docket.addMany([
      { queue: 'one', type: 'first' },
      { queue: 'one', type: 'second' },
    ])
    const [first] = await docket.workers.claim({ workerId: 'w', queues: ['one'], limit: 1 })
    assert.equal(first?.type, 'first')

    session = new pg.Client({
      connectionString: target.url.split('?')[0],
      options: `-c search_path=${target.schema}`,
    })
    await session.connect()
    await session.query('BEGIN')
    await session.query('LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE')
    const claim = docket.workers.claim({ workerId: 'w2', queues: ['one'], limit: 1 })
    // The claim holds the queue's lock and waits to count the active jobs.
    await until(
      async () =>
        (
          await session!.query(
            `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
             WHERE c.relname = 'jobs' AND c.relnamespace = $1::regnamespace AND NOT l.granted`,
            [target!.schema],
          )
        ).rowCount! > 0,
      10_000,
      'the claim to wait for the jobs table',
    )
    // The running job finishes now, after the claim took its turn on the queue.
    await session.query('SELECT complete_jobs($1::uuid[], $2::uuid[], $3::jsonb[], clock_timestamp())', [
      [first.id],
      [first.lease.token],
      ['null'],
    ])
    await session.query('COMMIT')
    const [second] = await claim
    assert.equal(second?.type, 'second', 'the freed slot went to the second job')
    const finished = (await docket.getJob(first.id)).finishedAt!
    const started = (await docket.getJob(second.id)).startedAt!
    assert.ok(
      started.getTime() >= finished.getTime(),
      `the second job is recorded as started at ${started.toISOString()}, before the first finished at ${finished.toISOString()}`,
    )
  })
})
