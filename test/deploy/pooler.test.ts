/**
 * PostgreSQL behind a real PgBouncer in transaction mode (test/deploy/pgbouncer.ts),
 * whose pool of 3 server connections is shared by two Dockets on two schemas:
 * a plain URL through it fails (PgBouncer refuses the startup search_path),
 * `pooler=transaction` without a direct URL is refused up front, and with
 * one, everything works: migrations and LISTEN go straight to the server;
 * adds, claims, progress, completions, files and the event feed go through
 * the pooler, each statement with its schema's search_path and no named
 * prepared statement; a wake-up and a cancel arrive by notification alone.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DocketError } from '../../src/core/errors.js'
import { Docket } from '../../src/index.js'
import { createKey } from '../../src/server/auth.js'
import { Worker } from '../../src/worker/worker.js'
import { findPostgres, freshPostgresSchema } from '../support/postgres.js'
import { until } from '../worker/harness.js'
import { type PgBouncer, startPgBouncer } from './pgbouncer.js'
import { startServe } from './serve.js'

type Fresh = Awaited<ReturnType<typeof freshPostgresSchema>>

describe('deploy: PostgreSQL behind PgBouncer in transaction mode', () => {
  let bouncer: PgBouncer
  const schemas: Fresh[] = []
  const fresh = async () => {
    const f = await freshPostgresSchema()
    schemas.push(f)
    return f
  }
  const pooled = (f: Fresh, params = 'pooler=transaction') => `${bouncer.url}?schema=${f.schema}&${params}`
  const transactions = async () => {
    const rows = await bouncer.admin('SHOW STATS')
    return rows.reduce((n, r) => n + Number(r.total_xact_count ?? 0), 0)
  }

  before(async () => {
    bouncer = await startPgBouncer((await findPostgres()).url)
  })
  after(async () => {
    await bouncer?.stop()
    for (const f of schemas) await f.drop()
  })

  it('a plain URL through the pooler fails: PgBouncer refuses the startup search_path', async () => {
    const f = await fresh()
    await assert.rejects(Docket.open(`${bouncer.url}?schema=${f.schema}`), /options/)
  })

  it('refuses pooler=transaction without a direct URL, and bad pooler settings, naming them', async () => {
    const f = await fresh()
    const refused = async (url: string, options: object, mention: RegExp) => {
      const error = await Docket.open(url, options).then(
        () => assert.fail(`${url} opened`),
        (e: unknown) => e,
      )
      assert.ok(error instanceof DocketError && error.code === 'INVALID_ARGUMENT', String(error))
      assert.match(error.message, mention)
    }
    await refused(pooled(f), {}, /direct URL.*directUrl, --direct-url, DOCKET_DIRECT_DATABASE_URL/)
    await refused(pooled(f, 'pooler=statement'), { directUrl: f.url }, /invalid pooler 'statement'/)
    await refused(pooled(f, 'pooler=transaction&statements=some'), { directUrl: f.url }, /invalid statements/)
    await refused(pooled(f), { directUrl: 'mysql://x' }, /directUrl/)
    await refused('/tmp/x.db', { directUrl: f.url }, /directUrl is for PostgreSQL/)
  })

  it('runs jobs, files, wake-ups, cancels and the feed for two schemas through one small pool', async () => {
    const [one, two] = [await fresh(), await fresh()]
    const before = await transactions()
    const logFrom = bouncer.log().length
    const dockets = await Promise.all([one, two].map((f) => Docket.open(pooled(f), { directUrl: f.url })))
    const workers: Worker[] = []
    try {
      for (const [i, d] of dockets.entries()) await d.createQueue({ name: `q${i}` })
      const seen = dockets.map(() => [] as string[])
      const subscriptions = await Promise.all(
        dockets.map((d, i) =>
          d.subscribe((e) => void (e.kind === 'job.completed' && seen[i]!.push(e.jobId!))),
        ),
      )
      for (const [i, d] of dockets.entries()) {
        workers.push(
          await new Worker(d, {
            queues: [`q${i}`],
            concurrency: 4,
            // Long enough that only a notification can wake the worker in time.
            pollMs: 60_000,
            onError: () => {},
            handlers: {
              work: async (job, ctx) => {
                await ctx.progress(50, 'half')
                await ctx.step('double', () => null)
                return { n: (job.payload as { n: number }).n * 2, schema: i }
              },
              wait: (_job, ctx) =>
                new Promise((_resolve, reject) =>
                  ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
                ),
            },
          }).start(),
        )
      }
      // Added after the workers went to sleep: the NOTIFY (sent through the pooler, at commit)
      // reaches their LISTEN (on the direct connection) and wakes them.
      await new Promise((r) => setTimeout(r, 300))
      const added = await Promise.all(
        dockets.map((d, i) =>
          d.addMany(Array.from({ length: 40 }, (_, n) => ({ queue: `q${i}`, type: 'work', payload: { n } }))),
        ),
      )
      const { job: withFile } = await dockets[0]!.addWithFiles(
        { queue: 'q0', type: 'work', payload: { n: 100 } },
        [{ name: 'in.txt', mediaType: 'text/plain', data: 'x'.repeat(2_500_000) }],
      )
      for (const [i, d] of dockets.entries()) {
        await until(
          async () => (await d.countJobs())[`q${i}`]!.completed === added[i]!.length + (i === 0 ? 1 : 0),
          20_000,
          `schema ${i} done`,
        )
      }
      for (const [i, d] of dockets.entries()) {
        const job = await d.getJob(added[i]![7]!.id)
        assert.deepEqual(job.result, { n: 14, schema: i }, 'each job ran in its own schema')
        assert.ok(
          job.events.some((e) => e.kind === 'progress'),
          'progress recorded',
        )
        assert.deepEqual(Object.keys(await d.countJobs()), [`q${i}`], 'the other schema’s queue is not here')
      }
      const file = (await dockets[0]!.getJob(withFile.id)).artifacts[0]!
      const { stream } = await dockets[0]!.openArtifact(file.id)
      let size = 0
      for await (const chunk of stream) size += (chunk as Buffer).length
      assert.equal(size, 2_500_000, 'the file went into the database and back through the pooler')

      // A cancel of a running job reaches its handler by notification (the poll is a minute).
      const waiting = await dockets[1]!.add('q1', 'wait')
      await until(
        async () => (await dockets[1]!.getJob(waiting.id)).status === 'active',
        10_000,
        'the job to start',
      )
      await dockets[1]!.cancelJob(waiting.id)
      await until(() => workers[1]!.load === 0, 5_000, 'the cancelled handler to stop')

      await until(() => seen.every((s, i) => s.length >= added[i]!.length), 10_000, 'the feeds')
      for (const s of subscriptions) await s.close()
      assert.ok((await transactions()) - before > 200, 'the work went through PgBouncer')
      assert.doesNotMatch(bouncer.log().slice(logFrom), /prepared statement|search_path|pooler error|ERROR/i)
    } finally {
      for (const w of workers) await w.close()
      for (const d of dockets) await d.close()
    }
  })

  it('docket serve behind the pooler, with --db and DOCKET_DIRECT_DATABASE_URL', async () => {
    const f = await fresh()
    const setup = await Docket.open(f.url)
    await setup.createQueue({ name: 'web' })
    const key = (await createKey(setup, 'alice', 'user')).key
    await setup.close()
    const served = await startServe(['--db', pooled(f)], { env: { DOCKET_DIRECT_DATABASE_URL: f.url } })
    try {
      assert.equal((await fetch(`${served.base}/ready`)).status, 200)
      const made = await fetch(`${served.base}/api/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ queue: 'web', type: 't' }),
      })
      assert.equal(made.status, 201, await made.text())
    } finally {
      await served.stop()
    }
  })
})
