/**
 * PostgreSQL deadlocks under the lock patterns that produced them (issue 33,
 * item 6): several workers each serving several rate-limited queues (each
 * claim locks the limited queues' rows), short heartbeats (each extends every
 * lease a worker holds in one statement) and batched completions (each
 * completes many jobs in one statement), all at once. Every statement that
 * locks several rows must take them in one order (queues by name, jobs by id),
 * so PostgreSQL's own count of deadlocks (pg_stat_database.deadlocks) must
 * not move.
 *
 * The test runs in a database of its own, so that no other test's deadlock is
 * counted, with `deadlock_timeout` lowered so that a deadlock costs 50 ms, not
 * a second, and more of them fit in the run. Before the fix this run counted
 * deadlocks in every try (see the figures in docs/reliability.md).
 *
 * Two deterministic tests come first, one per pattern: each holds rows with a
 * third connection so that two statements must each take one row before the
 * other's, then lets them go at once. With locks taken in the order the
 * caller listed things, PostgreSQL found a deadlock there every time.
 *
 * Short (npm test): 4 workers × 4 queues, 15 s. Long (npm run chaos): 60 s.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import pg from 'pg'
import { Docket, Worker } from '../../src/index.js'
import { findPostgres } from '../support/postgres.js'
import { figure, pick, sleep, until } from './support.js'

const P = pick({ runMs: 15_000, jobsPerQueue: 2_500 }, { runMs: 60_000, jobsPerQueue: 10_000 })
const WORKERS = 4
const QUEUES = ['dl-a', 'dl-b', 'dl-c', 'dl-d']
/** Tight enough that a claim often finds a queue at its limit and goes on to the next one, holding the first one's lock. */
const RATE = { max: 25, intervalMs: 250 }
const LEASE_MS = 300

/** A database of the test's own on the test server, dropped at the end. */
async function ownDatabase(): Promise<{ url: string; admin: pg.Client; drop(): Promise<void> }> {
  const { url } = await findPostgres()
  const name = `docket_deadlocks_${process.pid}_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.query(`ALTER DATABASE ${name} SET deadlock_timeout = '50ms'`)
  const own = new URL(url)
  own.pathname = `/${name}`
  return {
    url: own.toString(),
    admin,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    },
  }
}

/** PostgreSQL's count of deadlocks detected in the database, read fresh (stats are flushed by sessions that end). */
async function deadlocks(admin: pg.Client, url: string): Promise<number> {
  const name = new URL(url).pathname.slice(1)
  await admin.query('SELECT pg_stat_clear_snapshot()')
  const { rows } = await admin.query<{ deadlocks: string }>(
    'SELECT deadlocks FROM pg_stat_database WHERE datname = $1',
    [name],
  )
  return Number(rows[0]?.deadlocks ?? 0)
}

/** A row held locked by a transaction of its own until released: a statement that needs it waits. */
async function holdRow(url: string, sql: string, params: unknown[]): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url, options: '-c search_path=docket' })
  await client.connect()
  await client.query('BEGIN')
  const { rowCount } = await client.query(sql, params)
  assert.equal(rowCount, 1, `held no row with ${sql}`)
  return {
    async release() {
      await client.query('COMMIT')
      await client.end()
    },
  }
}

/** Fresh planner statistics for Docket's jobs table. */
async function analyse(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, options: '-c search_path=docket' })
  await client.connect()
  await client.query('ANALYZE jobs')
  await client.end()
}

/** Resolves once at least `n` sessions of the database wait for a lock. */
async function waitingForLocks(admin: pg.Client, url: string, n: number): Promise<void> {
  const name = new URL(url).pathname.slice(1)
  await until(
    async () => {
      const { rows } = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
        [name],
      )
      return Number(rows[0]!.n) >= n
    },
    10_000,
    `${n} statements waiting for locks`,
  )
}

/** The deadlock errors among settled results (40P01). */
const deadlocked = (results: PromiseSettledResult<unknown>[]) =>
  results.flatMap((r) =>
    r.status === 'rejected' && (r.reason as { code?: string })?.code === '40P01' ? [String(r.reason)] : [],
  )

describe('reliability: PostgreSQL deadlocks [postgres]', () => {
  let db: Awaited<ReturnType<typeof ownDatabase>> | undefined
  const dockets: Docket[] = []
  const workers: Worker[] = []
  after(async () => {
    await Promise.all(workers.map((w) => w.close()))
    await Promise.all(dockets.map((d) => d.close()))
    await db?.drop()
  })

  it('two claims that list two limited queues in opposite orders take the queues in one order', async () => {
    db ??= await ownDatabase()
    const docket = await Docket.open(db.url)
    dockets.push(docket)
    // q1, q2 are at their rate limits, so a claim goes past each to the next queue it lists, keeping its lock.
    for (const name of ['q1', 'q2']) {
      await docket.createQueue({ name, rateLimit: { max: 1, intervalMs: 3_600_000 } })
      await docket.addMany([
        { queue: name, type: 't' },
        { queue: name, type: 't' },
      ])
      assert.equal((await docket.workers.claim({ workerId: 'w', queues: [name], limit: 1 })).length, 1)
    }
    for (const name of ['k1', 'k2']) await docket.createQueue({ name, concurrency: 10 })
    const k1 = await holdRow(db.url, 'SELECT 1 FROM queues WHERE name = $1 FOR UPDATE', ['k1'])
    const k2 = await holdRow(db.url, 'SELECT 1 FROM queues WHERE name = $1 FOR UPDATE', ['k2'])
    const claims = [
      docket.workers.claim({ workerId: 'a', queues: ['q1', 'k1', 'q2'], limit: 5 }),
      docket.workers.claim({ workerId: 'b', queues: ['q2', 'k2', 'q1'], limit: 5 }),
    ]
    await waitingForLocks(db.admin, db.url, 2)
    await Promise.all([k1.release(), k2.release()])
    const results = await Promise.allSettled(claims)
    assert.deepEqual(deadlocked(results), [])
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled'],
    )
  })

  it("a heartbeat and a batch of completions that list a worker's jobs in opposite orders take the rows in one order", async () => {
    db ??= await ownDatabase()
    const docket = await Docket.open(db.url)
    dockets.push(docket)
    await docket.createQueue({ name: 'hb' })
    await docket.addMany(Array.from({ length: 3 }, () => ({ queue: 'hb', type: 't' })))
    // Many active jobs, as in production: each statement then finds its rows through the primary
    // key, one by one in the order it lists them, rather than by walking the active jobs by expiry.
    await docket.createQueue({ name: 'busy' })
    for (let i = 0; i < 4; i++) {
      await docket.addMany(Array.from({ length: 1_000 }, () => ({ queue: 'busy', type: 't' })))
      await docket.workers.claim({ workerId: 'busy', queues: ['busy'], limit: 1_000, leaseMs: 600_000 })
    }
    await analyse(db.url)
    const claimed = await docket.workers.claim({ workerId: 'w', queues: ['hb'], limit: 3, leaseMs: 60_000 })
    const [a, b, k] = claimed
    // Expiries in the order b, k, a: a statement that walks the active jobs by expiry meets them so.
    for (const [job, ms] of [
      [b!, 10_000],
      [k!, 20_000],
      [a!, 30_000],
    ] as const)
      await docket.workers.heartbeat(job, ms)
    const heldK = await holdRow(db.url, 'SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE', [k!.id])
    // Taken in the order listed (or by expiry, the same here), the heartbeat holds b and waits for
    // k; the completions, listed a then b, hold a and wait for b; once k is free the heartbeat wants a.
    const heartbeat = docket.workers.heartbeat([b!, k!, a!], 60_000)
    await waitingForLocks(db.admin, db.url, 1)
    const completions = docket.workers.completeMany([{ job: a! }, { job: b! }])
    await waitingForLocks(db.admin, db.url, 2)
    await heldK.release()
    const results = await Promise.allSettled([heartbeat, completions])
    assert.deepEqual(deadlocked(results), [])
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled'],
    )
  })

  it(`${WORKERS} workers × ${QUEUES.length} rate-limited queues, heartbeats every ${LEASE_MS / 3} ms, batched completions: 0 deadlocks`, async () => {
    db ??= await ownDatabase()
    const producer = await Docket.open(db.url)
    dockets.push(producer)
    for (const name of QUEUES) await producer.createQueue({ name, rateLimit: RATE, maxAttempts: 100 })
    for (const queue of QUEUES)
      for (let i = 0; i < P.jobsPerQueue; i += 500)
        await producer.addMany(
          Array.from({ length: Math.min(500, P.jobsPerQueue - i) }, (_, n) => ({
            queue,
            type: 'work',
            payload: { n: i + n },
          })),
        )
    const before = await deadlocks(db.admin, db.url)

    const errors: string[] = []
    let completed = 0
    for (let w = 0; w < WORKERS; w++) {
      const docket = await Docket.open(db.url)
      dockets.push(docket)
      const worker = new Worker(docket, {
        id: `dl-${w}`,
        queues: QUEUES,
        concurrency: 16,
        prefetch: 16,
        leaseMs: LEASE_MS,
        pollMs: 20,
        maintenanceIntervalMs: 100,
        onError: (e) => {
          if (errors.length < 1000) errors.push(String((e as Error)?.message ?? e))
        },
        handlers: async () => {
          await sleep(Math.floor(Math.random() * 15))
          return null
        },
      })
      worker.on('completed', () => completed++)
      workers.push(await worker.start())
    }
    const t0 = Date.now()
    await sleep(P.runMs)
    const ranMs = Date.now() - t0
    await Promise.all(workers.map((w) => w.close()))
    // Ending the workers' sessions flushes their statistics; the count is then read fresh.
    await Promise.all(dockets.splice(1).map((d) => d.close()))
    // Sessions flush their statistics as they end; give the last of them a moment to land.
    await sleep(1_000)
    const after = await deadlocks(db.admin, db.url)
    const deadlockErrors = errors.filter((e) => /deadlock/i.test(e))

    figure('deadlocks', {
      driver: 'postgres',
      workers: WORKERS,
      queues: QUEUES.length,
      runS: ranMs / 1000,
      completed,
      completedPerSecond: completed / (ranMs / 1000),
      deadlocks: after - before,
      deadlockErrors: deadlockErrors.length,
      workerErrors: errors.length,
    })
    if (errors.length > 0) console.log(`# worker errors (first 5): ${errors.slice(0, 5).join(' | ')}`)
    assert.ok(completed > 1_000, `only ${completed} jobs completed: the test measured little`)
    assert.equal(after - before, 0, `PostgreSQL detected ${after - before} deadlocks`)
    assert.deepEqual(deadlockErrors, [])
  })
})
