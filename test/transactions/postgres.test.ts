/**
 * Enqueueing in the caller's own PostgreSQL transaction: `add(input, { client })`
 * with node-postgres, and the SQL function `add_job` from raw SQL and from
 * Kysely. The job exists if and only if the caller's transaction commits, and
 * workers hear of it at commit. add_job is checked against the library's add
 * field by field, so the two cannot drift apart.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { Docket, type Job } from '../../src/index.js'
import { findPostgres, freshPostgresSchema } from '../support/postgres.js'

describe('enqueue in the caller’s transaction [postgres]', () => {
  let url: string
  let schema: string
  let drop: () => Promise<void>
  let docket: Docket
  let pool: pg.Pool

  before(async () => {
    const fresh = await freshPostgresSchema()
    ;({ url, schema, drop } = fresh)
    docket = await Docket.open(url)
    await docket.createQueue({ name: 'emails', maxAttempts: 7, timeoutMs: 5_000 })
    await docket.createQueue({ name: 'approvals', mode: 'manual' })
    await docket.createQueue({ name: 'tenants', groupByOwner: true })
    pool = new pg.Pool({ connectionString: (await findPostgres()).url, max: 4 })
    // The application's own table, in its own schema (the default search_path: public).
    await pool.query(`CREATE TABLE IF NOT EXISTS ${schema}_users (id serial PRIMARY KEY, name text)`)
  })
  after(async () => {
    await pool.query(`DROP TABLE IF EXISTS ${schema}_users`)
    await pool.end()
    await docket.close()
    await drop()
  })

  const users = () => `${schema}_users`
  const exists = async (id: string) => (await docket.findJob(id)) !== null

  /** Resolves when the ready notification for `queue` arrives; `heard()` says whether it has. */
  async function listenForReady(queue: string) {
    let heard = false
    const unsubscribe = await docket.workers.onReady((q) => {
      if (q === queue) heard = true
    })
    return { heard: () => heard, unsubscribe }
  }

  it('a job added with the caller’s client commits with the caller’s row, and workers hear of it at commit', async () => {
    const ready = await listenForReady('emails')
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const { rows } = await client.query(`INSERT INTO ${users()} (name) VALUES ('ada') RETURNING id`)
      const job = await docket.add(
        { queue: 'emails', type: 'welcome', payload: { userId: rows[0].id } },
        { client },
      )
      assert.equal(job.status, 'waiting')
      assert.equal(await exists(job.id), false, 'not visible to others before the commit')
      const { rows: inside } = await client.query(`SELECT status FROM "${schema}".jobs WHERE id = $1`, [
        job.id,
      ])
      assert.equal(inside[0]?.status, 'waiting', 'visible inside the transaction')
      await new Promise((r) => setTimeout(r, 100))
      assert.equal(ready.heard(), false, 'no wake-up before the commit')
      await client.query('COMMIT')
      assert.equal(await exists(job.id), true)
      for (let i = 0; i < 100 && !ready.heard(); i++) await new Promise((r) => setTimeout(r, 20))
      assert.equal(ready.heard(), true, 'the wake-up arrives at commit')
      assert.deepEqual(
        (await docket.getJob(job.id)).events.map((e) => e.kind),
        ['added'],
      )
    } finally {
      client.release()
      await ready.unsubscribe()
    }
  })

  it('a rollback takes the job, its event and its batch with it', async () => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(`INSERT INTO ${users()} (name) VALUES ('bob')`)
      const one = await docket.add({ queue: 'emails', type: 'welcome' }, { client })
      const many = await docket.addMany(
        [
          { queue: 'emails', type: 'a' },
          { queue: 'emails', type: 'b' },
        ],
        { client },
      )
      const { batch, jobs } = await docket.addBatch([{ queue: 'emails', type: 'c' }], { name: 'b1', client })
      assert.equal(batch.total, 1)
      assert.equal(batch.counts.waiting, 1)
      await client.query('ROLLBACK')
      for (const j of [one, ...many, ...jobs]) assert.equal(await exists(j.id), false, 'rolled back')
      await assert.rejects(docket.getBatch(batch.id), { code: 'NOT_FOUND' })
      const events = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".events WHERE job_id = $1`, [
        one.id,
      ])
      assert.equal(events.rows[0].n, 0)
    } finally {
      client.release()
    }
  })

  it('a refused add undoes only itself: the caller’s transaction goes on and commits its own rows', async () => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const { rows } = await client.query(`INSERT INTO ${users()} (name) VALUES ('cy') RETURNING id`)
      await assert.rejects(docket.add({ queue: 'no-such-queue', type: 't' }, { client }), {
        code: 'NOT_FOUND',
      })
      await assert.rejects(docket.add({ queue: 'emails', type: 't', priority: 1000 }, { client }), {
        code: 'INVALID_ARGUMENT',
      })
      const job = await docket.add({ queue: 'emails', type: 'after-a-refusal' }, { client })
      await client.query('COMMIT')
      const kept = await pool.query(`SELECT name FROM ${users()} WHERE id = $1`, [rows[0].id])
      assert.equal(kept.rows[0]?.name, 'cy')
      assert.equal(await exists(job.id), true)
    } finally {
      client.release()
    }
  })

  it('leaves the caller’s search_path as it was, so their own names mean what they meant', async () => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const before = (await client.query('SHOW search_path')).rows[0].search_path
      await docket.add({ queue: 'emails', type: 't' }, { client })
      assert.equal((await client.query('SHOW search_path')).rows[0].search_path, before)
      await assert.rejects(docket.add({ queue: 'missing', type: 't' }, { client }))
      assert.equal((await client.query('SHOW search_path')).rows[0].search_path, before)
      await client.query('ROLLBACK')
    } finally {
      client.release()
    }
  })

  it('refuses a client outside a transaction, and one that is not a client, naming client', async () => {
    const client = await pool.connect()
    try {
      await assert.rejects(
        docket.add({ queue: 'emails', type: 't' }, { client }),
        (e: Error & { code?: string; details?: { issues?: { path: string }[] } }) => {
          assert.equal(e.code, 'INVALID_ARGUMENT')
          assert.match(e.message, /BEGIN/)
          assert.equal(e.details?.issues?.[0]?.path, 'client')
          return true
        },
      )
    } finally {
      client.release()
    }
    await assert.rejects(docket.add({ queue: 'emails', type: 't' }, { client: {} as never }), {
      code: 'INVALID_ARGUMENT',
    })
    await assert.rejects(docket.add({ queue: 'emails', type: 't' }, { clients: 1 } as never), {
      code: 'INVALID_ARGUMENT',
    })
  })

  describe('the SQL function add_job', () => {
    const addJob = (
      c: pg.ClientBase | pg.Pool,
      queue: string,
      type: string,
      payload: unknown,
      options: unknown,
    ) =>
      c
        .query(`SELECT "${schema}".add_job($1, $2, $3::jsonb, $4::jsonb) AS id`, [
          queue,
          type,
          JSON.stringify(payload),
          JSON.stringify(options),
        ])
        .then((r) => String(r.rows[0].id))

    /** The fields add_job must decide exactly as the library does. */
    const decided = (j: Job) => ({
      queue: j.queue,
      type: j.type,
      payload: j.payload,
      status: j.status,
      priority: j.priority,
      maxAttempts: j.maxAttempts,
      backoff: j.backoff,
      timeoutMs: j.timeoutMs,
      owner: j.owner,
      group: j.group,
      capabilities: j.capabilities,
      dedupeKey: j.dedupeKey,
      estimatedDurationMs: j.estimatedDurationMs,
      delayed: j.runAt.getTime() - j.createdAt.getTime() > 30_000,
    })

    it('decides every field as docket.add does, for each option and the queue’s defaults', async () => {
      const runAt = new Date(Date.now() + 3_600_000).toISOString()
      const cases: [string, Record<string, unknown>][] = [
        ['emails', {}],
        ['emails', { priority: 'high', maxAttempts: 2, timeoutMs: null }],
        ['emails', { priority: 10, delayMs: 120_000, owner: 'alice', capabilities: ['gpu', 'cpu', 'gpu'] }],
        ['emails', { runAt, backoff: { type: 'fixed', delayMs: 500 }, estimatedDurationMs: 900 }],
        ['emails', { backoff: { delayMs: 5_000, maxDelayMs: 10 }, timeoutMs: 60_000 }],
        ['approvals', { priority: 'urgent' }],
        ['emails', { group: 'acme', owner: 'alice' }],
        ['tenants', { owner: 'alice' }],
        ['tenants', { owner: 'alice', group: 'acme' }],
        ['tenants', {}],
      ]
      for (const [queue, options] of cases) {
        const payload = { case: options, nested: [1, 'two', null] }
        const viaLibrary = await docket.add({ queue, type: 'compare', payload, ...options })
        const viaSql = await docket.getJob(await addJob(pool, queue, 'compare', payload, options))
        assert.deepEqual(decided(viaSql), decided(viaLibrary), JSON.stringify(options))
        assert.deepEqual(
          viaSql.events.map((e) => [e.kind, e.status]),
          [['added', viaLibrary.status]],
        )
      }
    })

    it('commits and rolls back with the caller, through node-postgres and through Kysely', async () => {
      const client = await pool.connect()
      let kept: string
      let dropped: string
      try {
        await client.query('BEGIN')
        kept = await addJob(client, 'emails', 'pg-commit', { n: 1 }, {})
        await client.query('COMMIT')
        await client.query('BEGIN')
        dropped = await addJob(client, 'emails', 'pg-rollback', { n: 2 }, {})
        await client.query('ROLLBACK')
      } finally {
        client.release()
      }
      assert.equal(await exists(kept), true)
      assert.equal(await exists(dropped), false)

      const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool }) })
      const kyselyAdd = (trx: Kysely<Record<string, never>>, type: string) =>
        sql<{
          id: string
        }>`SELECT ${sql.id(schema, 'add_job')}(${'emails'}, ${type}, ${JSON.stringify({ via: 'kysely' })}::jsonb, '{}'::jsonb) AS id`
          .execute(trx)
          .then((r) => r.rows[0]!.id)
      const committed = await db.transaction().execute(async (trx) => {
        await sql`INSERT INTO ${sql.table(users())} (name) VALUES ('kysely')`.execute(trx)
        return kyselyAdd(trx, 'kysely-commit')
      })
      let rolledBack = ''
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          rolledBack = await kyselyAdd(trx, 'kysely-rollback')
          throw new Error('the business write failed')
        }),
        /business write failed/,
      )
      const read = await docket.getJob(committed)
      assert.deepEqual([read.type, read.payload], ['kysely-commit', { via: 'kysely' }])
      assert.equal(await exists(rolledBack), false)
    })

    it('returns the live job of the same queue, owner and dedupe key instead of a new one', async () => {
      const first = await addJob(pool, 'emails', 'digest', {}, { dedupeKey: 'daily', owner: 'alice' })
      assert.equal(
        await addJob(pool, 'emails', 'digest', { other: true }, { dedupeKey: 'daily', owner: 'alice' }),
        first,
      )
      const library = await docket.add({
        queue: 'emails',
        type: 'digest',
        dedupeKey: 'daily',
        owner: 'alice',
      })
      assert.equal(library.id, first, 'the library and the function share one dedupe rule')
      assert.notEqual(await addJob(pool, 'emails', 'digest', {}, { dedupeKey: 'daily', owner: 'bob' }), first)
    })

    it('refuses bad input with SQLSTATE 22023 naming the field, and writes nothing', async () => {
      const before = (await pool.query(`SELECT count(*)::int AS n FROM "${schema}".jobs`)).rows[0].n
      const bad: [string, string, unknown, unknown, RegExp][] = [
        ['missing', 't', {}, {}, /queue 'missing' does not exist/],
        ['bad queue name!', 't', {}, {}, /queue:/],
        ['emails', '', {}, {}, /type:/],
        ['emails', 't', {}, { priority: 101 }, /options\.priority/],
        ['emails', 't', {}, { priority: 'asap' }, /options\.priority/],
        ['emails', 't', {}, { delayMs: -1 }, /options\.delayMs/],
        ['emails', 't', {}, { delayMs: 1, runAt: '2030-01-01T00:00:00Z' }, /runAt or delayMs/],
        ['emails', 't', {}, { runAt: 'tomorrow' }, /options\.runAt/],
        ['emails', 't', {}, { runAt: '2030-01-01T00:00:00' }, /options\.runAt/],
        ['emails', 't', {}, { maxAttempts: 0 }, /options\.maxAttempts/],
        ['emails', 't', {}, { backoff: { type: 'linear' } }, /options\.backoff\.type/],
        ['emails', 't', {}, { backoff: { delay: 1 } }, /options\.backoff\.delay/],
        ['emails', 't', {}, { timeoutMs: 0 }, /options\.timeoutMs/],
        ['emails', 't', {}, { owner: '' }, /options\.owner/],
        ['emails', 't', {}, { group: 7 }, /options\.group/],
        ['emails', 't', {}, { capabilities: 'gpu' }, /options\.capabilities/],
        ['emails', 't', {}, { dedupeKey: 7 }, /options\.dedupeKey/],
        ['emails', 't', {}, { id: 'not-a-uuid' }, /options\.id/],
        ['emails', 't', {}, { dependsOn: [] }, /options\.dependsOn: not an option/],
        ['emails', 't', {}, [], /options: expected a JSON object/],
        ['emails', 't', { big: 'x'.repeat(1_100_000) }, {}, /payload: .* over the limit/],
      ]
      for (const [queue, type, payload, options, message] of bad) {
        await assert.rejects(addJob(pool, queue, type, payload, options), (e: Error & { code?: string }) => {
          assert.equal(e.code, '22023', `${JSON.stringify(options)}: ${e.message}`)
          assert.match(e.message, message)
          return true
        })
      }
      assert.equal((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".jobs`)).rows[0].n, before)
    })
  })
})
