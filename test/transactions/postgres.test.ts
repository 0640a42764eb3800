/**
 * Enqueueing in the caller's own PostgreSQL transaction: `add(input, { client })`
 * with node-postgres, and the SQL function `add_job` from raw SQL and from
 * Kysely. The job exists if and only if the caller's transaction commits, and
 * workers hear of it at commit. add_job is checked against the library's add
 * field by field, so the two cannot drift apart.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import {
  Docket,
  isDocketError,
  type JobDetail,
  type JobInput,
  type QueueCreateInput,
} from '../../src/index.js'
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

    /** Adds one job, through the library or through add_job, and answers its id. */
    type Add = (
      queue: string,
      type: string,
      payload: unknown,
      options: Record<string, unknown>,
    ) => Promise<string>
    const viaLibrary: Add = async (queue, type, payload, options) =>
      (await docket.add({ ...options, queue, type, payload } as JobInput)).id
    const viaSql: Add = (queue, type, payload, options) => addJob(pool, queue, type, payload, options)

    /** What a time of a job is counted from: its creation (the burst's first add), or the add that last decided it. */
    type From = 'created' | 'add'
    /**
     * A time of a job as both ways must decide it: the date given (runAt, expiresAt) when it is
     * that; else how long after `from` it falls (for the add: its 'added' event, or a
     * replacement's log), which is what delays, expiries and maximum waits are counted from.
     */
    const when = (at: Date | null, job: JobDetail, given: unknown, from: From) => {
      if (at === null) return null
      if (given !== undefined && at.getTime() === new Date(given as string).getTime()) return 'as given'
      const add = job.events.filter((e) => e.kind === 'added' || /replaced/.test(e.message ?? '')).at(-1)!
      return `${from} + ${at.getTime() - (from === 'created' ? job.createdAt : add.at).getTime()} ms`
    }

    /**
     * A scenario runs once each way on a fresh queue of its own: `run` adds through `add` (and may
     * set up with the library), and answers the ids to compare, in order. Both ways must answer the
     * same ids in the same places (a deduplicated add answers an earlier job) and store the same.
     */
    interface Scenario {
      queue?: Omit<QueueCreateInput, 'name'>
      run(add: Add, queue: string): Promise<string[]>
      /** Only the first this many ids answered are compared; the rest are only named (jobs set up with the library). */
      compared?: number
      /** The options of the add whose dates to compare as given. */
      options?: Record<string, unknown>
      /** What its times count from (default: the add that last decided them). */
      from?: { runAt?: From; expiresAt?: From }
    }

    /** What add_job must decide exactly as the library does; ids as their place in `ids`. */
    const decided = (j: JobDetail, scenario: Scenario, ids: string[]) => {
      const label = (id: string) => (ids.includes(id) ? `#${ids.indexOf(id)}` : id)
      const given = scenario.options ?? {}
      return {
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
        runAt: when(j.runAt, j, given.runAt, scenario.from?.runAt ?? 'add'),
        expiresAt: when(j.expiresAt, j, given.expiresAt, scenario.from?.expiresAt ?? 'add'),
        upstream: j.dependencies.upstream.map((u) => [label(u.id), u.status, u.on]),
        downstream: j.dependencies.downstream.map((d) => [label(d.id), d.status, d.on]),
        events: j.events.map((e) => [e.kind, e.status, e.message]),
      }
    }

    let scenarios = 0
    async function outcome(scenario: Scenario, add: Add) {
      const queue = `parity-${++scenarios}`
      await docket.createQueue({ name: queue, maxAttempts: 7, timeoutMs: 5_000, ...scenario.queue })
      const ids = await scenario.run(add, queue)
      const unique = [...new Set(ids)]
      const compared = [...new Set(ids.slice(0, scenario.compared ?? ids.length))]
      return {
        answers: ids.map((id) => unique.indexOf(id)),
        jobs: await Promise.all(
          compared.map(async (id) => decided(await docket.getJob(id), scenario, unique)),
        ),
      }
    }
    async function same(name: string, scenario: Scenario) {
      assert.deepEqual(await outcome(scenario, viaSql), await outcome(scenario, viaLibrary), name)
    }
    /** One add of `options` (`id: 'fresh'`: an id of its own each way, in upper case). */
    const one = (options: Record<string, unknown>, queue?: Scenario['queue']): Scenario => ({
      queue,
      options,
      run: async (add, q) => {
        const given = options.id === 'fresh' ? { ...options, id: randomUUID().toUpperCase() } : options
        return [await add(q, 'compare', { case: options, nested: [1, 'two', null] }, given)]
      },
    })
    const claimAll = (queue: string) =>
      docket.workers.claim({ workerId: 'parity', queues: [queue], limit: 10 })

    it('decides every field as docket.add does, for each option and the queue’s defaults', async () => {
      const runAt = new Date(Date.now() + 3_600_000).toISOString()
      const expiresAt = new Date(Date.now() + 7_200_000).toISOString()
      const cases: [Record<string, unknown>, Scenario['queue']?][] = [
        [{}],
        [{ id: 'fresh' }],
        [{ priority: 'high', maxAttempts: 2, timeoutMs: null }],
        [{ priority: 10, delayMs: 120_000, owner: 'alice', capabilities: ['gpu', 'cpu', 'gpu'] }],
        [{ runAt, backoff: { type: 'fixed', delayMs: 500 }, estimatedDurationMs: 900 }],
        [{ runAt: Date.parse(runAt) }],
        [{ backoff: { delayMs: 5_000, maxDelayMs: 10 }, timeoutMs: 60_000 }],
        [{ timeoutMs: 1_234, estimatedDurationMs: null }],
        [{ priority: 'urgent' }, { mode: 'manual' }],
        [{ delayMs: 60_000 }, { mode: 'manual' }],
        [{ group: 'acme', owner: 'alice' }],
        [{ owner: 'alice' }, { groupByOwner: true }],
        [{ owner: 'alice', group: 'bob' }, { groupByOwner: true }],
        [{ group: 'bob' }, { groupByOwner: true }],
        [{}, { groupByOwner: true }],
        [{ expiresInMs: 600_000 }],
        [{ expiresAt }],
        [{ expiresAt: Date.parse(expiresAt), runAt }],
        [{ delayMs: 60_000, expiresInMs: 120_000 }],
        [{ dedupeKey: 'k', dedupeMode: 'replace', dedupeTtlMs: 60_000 }],
        [{ dedupeKey: 'k', dedupeMode: 'debounce', delayMs: 60_000, dedupeMaxWaitMs: 5_000 }],
        [{ dedupeKey: 'k', dedupeMode: 'debounce', delayMs: 1_000, dedupeMaxWaitMs: 5_000 }],
      ]
      for (const [options, queue] of cases) await same(JSON.stringify([options, queue]), one(options, queue))
    })

    it('dedupes as docket.add does, in every mode: keep, replace, debounce with and without a maximum wait, after a running job, within a TTL', async () => {
      const key = { dedupeKey: 'k' }
      const twice =
        (first: Record<string, unknown>, second: Record<string, unknown>): Scenario['run'] =>
        async (add, q) => [
          await add(q, 't', { v: 1 }, { ...key, ...first }),
          await add(q, 't', { v: 2 }, { ...key, ...second }),
        ]
      await same('keep', { run: twice({}, { dedupeMode: 'keep', priority: 'urgent' }) })
      await same('replace keeps the run time', {
        from: { runAt: 'created' },
        run: twice({ delayMs: 60_000 }, { dedupeMode: 'replace', priority: 'urgent', capabilities: ['gpu'] }),
      })
      await same('replace with a delay', { run: twice({}, { dedupeMode: 'replace', delayMs: 30_000 }) })
      await same('replace with an expiry', {
        from: { runAt: 'created' },
        run: twice({ delayMs: 60_000 }, { dedupeMode: 'replace', expiresInMs: 120_000 }),
      })
      await same('replace a held job', {
        queue: { mode: 'manual' },
        run: twice({}, { dedupeMode: 'replace', delayMs: 30_000 }),
      })
      await same('debounce', { run: twice({ delayMs: 60_000 }, { dedupeMode: 'debounce', delayMs: 5_000 }) })
      await same('debounce to now', { run: twice({ delayMs: 60_000 }, { dedupeMode: 'debounce' }) })
      await same('debounce capped at its maximum wait after the first add', {
        from: { runAt: 'created' },
        run: twice(
          { dedupeMode: 'debounce', delayMs: 60_000, dedupeMaxWaitMs: 120_000 },
          { dedupeMode: 'debounce', delayMs: 60_000, dedupeMaxWaitMs: 10_000 },
        ),
      })
      await same('replace owner-scoped', {
        run: async (add, q) => [
          await add(q, 't', { v: 1 }, { ...key, owner: 'ann' }),
          await add(q, 't', { v: 2 }, { ...key, owner: 'ben', dedupeMode: 'replace' }),
        ],
      })
      await same('replace while it runs: queued after it', {
        run: async (add, q) => {
          const first = await add(q, 't', { v: 1 }, key)
          await claimAll(q)
          const next = await add(q, 't', { v: 2 }, { ...key, dedupeMode: 'replace' })
          const third = await add(q, 't', { v: 3 }, { ...key, dedupeMode: 'debounce', delayMs: 5_000 })
          return [first, next, third]
        },
      })
      await same('dedupeTtlMs', {
        run: async (add, q) => {
          const first = await add(q, 't', null, { ...key, dedupeTtlMs: 600_000 })
          const [claimed] = await claimAll(q)
          await docket.workers.complete(claimed!, 'done')
          const within = await add(q, 't', null, { ...key, dedupeTtlMs: 600_000 })
          const withoutTtl = await add(q, 't', null, key)
          return [first, within, withoutTtl]
        },
      })
    })

    it('depends on stored jobs as docket.add does: success or completion, of the same owner', async () => {
      /** Jobs of `owner` to depend on, in a queue of their own: one waiting, one completed, one failed. */
      const upstream = async (q: string, owner?: string) => {
        const up = `${q}-up`
        await docket.createQueue({ name: up })
        const waiting = await docket.add({ queue: up, type: 'up', owner })
        const done = await docket.add({ queue: up, type: 'up', owner })
        const failed = await docket.add({ queue: up, type: 'up', owner })
        const claimed = await claimAll(up)
        await docket.workers.complete(claimed.find((j) => j.id === done.id)!, 'ok')
        await docket.workers.fail(claimed.find((j) => j.id === failed.id)!, 'boom', { retryable: false })
        await docket.workers.release(claimed.find((j) => j.id === waiting.id)!)
        return { waiting: waiting.id, done: done.id, failed: failed.id }
      }
      const cases: [string, (u: Awaited<ReturnType<typeof upstream>>) => unknown[], Scenario['queue']?][] = [
        ['one waiting', (u) => [u.waiting]],
        ['one completed', (u) => [u.done]],
        ['completion of a failed one', (u) => [{ id: u.failed, on: 'completion' }]],
        ['the same twice: success wins', (u) => [{ id: u.waiting, on: 'completion' }, u.waiting]],
        ['in upper case, and several', (u) => [u.done.toUpperCase(), { id: u.waiting, on: 'completion' }]],
        ['completed, on a manual queue', (u) => [u.done], { mode: 'manual' }],
        ['completed, with a delay', (u) => [u.done]],
      ]
      for (const [name, dependsOn, queue] of cases) {
        await same(name, {
          queue,
          compared: 1,
          run: async (add, q) => {
            const u = await upstream(q, 'alice')
            const options = {
              owner: 'alice',
              dependsOn: dependsOn(u),
              ...(name.includes('delay') ? { delayMs: 9_000 } : {}),
            }
            return [await add(q, 'down', null, options), u.waiting, u.done, u.failed]
          },
        })
      }
    })

    it('refuses what docket.add refuses, with SQLSTATE 22023 naming the field, and writes nothing', async () => {
      const before = (await pool.query(`SELECT count(*)::int AS n FROM "${schema}".jobs`)).rows[0].n
      const past = new Date(Date.now() - 60_000).toISOString()
      const soon = new Date(Date.now() + 60_000).toISOString()
      const later = new Date(Date.now() + 3_600_000).toISOString()
      const bob = await docket.add({ queue: 'emails', type: 'theirs', owner: 'bob' })
      const failed = await docket.add({ queue: 'approvals', type: 'dead' })
      await docket.cancelJob(failed.id)
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
        ['emails', 't', {}, { runAt: 1.5 }, /options\.runAt/],
        ['emails', 't', {}, { maxAttempts: 0 }, /options\.maxAttempts/],
        ['emails', 't', {}, { backoff: { type: 'linear' } }, /options\.backoff\.type/],
        ['emails', 't', {}, { backoff: { delay: 1 } }, /options\.backoff\.delay/],
        ['emails', 't', {}, { timeoutMs: 0 }, /options\.timeoutMs/],
        ['emails', 't', {}, { owner: '' }, /options\.owner/],
        ['emails', 't', {}, { group: 7 }, /options\.group/],
        ['emails', 't', {}, { capabilities: 'gpu' }, /options\.capabilities/],
        ['emails', 't', {}, { dedupeKey: 7 }, /options\.dedupeKey/],
        ['emails', 't', {}, { id: 'not-a-uuid' }, /options\.id/],
        ['emails', 't', {}, { id: null }, /options\.id/],
        ['emails', 't', {}, { estimatedDurationMs: -5 }, /options\.estimatedDurationMs/],
        ['emails', 't', {}, { dedupeKey: 'k', dedupeMode: 'merge' }, /options\.dedupeMode/],
        ['emails', 't', {}, { dedupeMode: 'replace' }, /options\.dedupeMode: dedupeMode needs a dedupeKey/],
        ['emails', 't', {}, { dedupeTtlMs: 1_000 }, /options\.dedupeTtlMs: dedupeTtlMs needs a dedupeKey/],
        ['emails', 't', {}, { dedupeKey: 'k', dedupeTtlMs: 0 }, /options\.dedupeTtlMs/],
        ['emails', 't', {}, { dedupeKey: 'k', dedupeMaxWaitMs: 1_000 }, /options\.dedupeMaxWaitMs/],
        [
          'emails',
          't',
          {},
          { dedupeKey: 'k', dedupeMode: 'debounce', dedupeMaxWaitMs: 0 },
          /options\.dedupeMaxWaitMs/,
        ],
        ['emails', 't', {}, { expiresAt: past }, /options\.expiresAt: must be in the future/],
        ['emails', 't', {}, { expiresAt: soon, runAt: later }, /options\.expiresAt: must come after/],
        ['emails', 't', {}, { expiresInMs: 1_000, delayMs: 5_000 }, /options\.expiresInMs: must come after/],
        ['emails', 't', {}, { expiresInMs: 0 }, /options\.expiresInMs/],
        ['emails', 't', {}, { expiresAt: later, expiresInMs: 1_000 }, /expiresAt or expiresInMs/],
        ['emails', 't', {}, { expiresAt: 'soon' }, /options\.expiresAt/],
        ['emails', 't', {}, { dependsOn: 'x' }, /options\.dependsOn/],
        ['emails', 't', {}, { dependsOn: ['nope'] }, /options\.dependsOn/],
        ['emails', 't', {}, { dependsOn: [{ id: bob.id }] }, /options\.dependsOn/],
        ['emails', 't', {}, { dependsOn: [{ id: bob.id, on: 'failure' }] }, /options\.dependsOn/],
        ['emails', 't', {}, { dependsOn: [{ id: bob.id, on: 'success', x: 1 }] }, /options\.dependsOn/],
        ['emails', 't', {}, { dependsOn: Array(1001).fill(bob.id) }, /options\.dependsOn/],
        ['emails', 't', {}, { dependsOn: [randomUUID()] }, /options\.dependsOn: .* which does not exist/],
        [
          'emails',
          't',
          {},
          { owner: 'alice', dependsOn: [bob.id] },
          /options\.dependsOn: .* which does not exist/,
        ],
        ['emails', 't', {}, { dependsOn: [failed.id] }, /options\.dependsOn: .* it is cancelled/],
        [
          'emails',
          't',
          {},
          { id: bob.id.replace(/^./, 'a'), dependsOn: [bob.id.replace(/^./, 'a')] },
          /cycle/,
        ],
        ['emails', 't', {}, { dependsOn: [], colour: 'red' }, /options\.colour: not an option/],
        ['emails', 't', {}, [], /options: expected a JSON object/],
        ['emails', 't', { big: 'x'.repeat(1_100_000) }, {}, /payload: .* over the limit of 1048576/],
      ]
      for (const [queue, type, payload, options, message] of bad) {
        const what = `${queue} ${type} ${JSON.stringify(options).slice(0, 80)}`
        await assert.rejects(addJob(pool, queue, type, payload, options), (e: Error & { code?: string }) => {
          assert.equal(e.code, '22023', `${what}: ${e.message}`)
          assert.match(e.message, message, what)
          return true
        })
        const input = Array.isArray(options) ? options : { ...(options as object), queue, type, payload }
        await assert.rejects(
          docket.add(input as JobInput),
          (e) => isDocketError(e),
          `the library refuses ${what}`,
        )
      }
      assert.equal(
        (await pool.query(`SELECT count(*)::int AS n FROM "${schema}".jobs`)).rows[0].n,
        before + 2,
      )
      await assert.rejects(addJob(pool, 'emails', 't', null, { id: bob.id }), { code: '23505' })
    })

    it('honours the maxPayloadBytes a Docket opened with, counted as compact JSON as the library counts it', async () => {
      // A payload whose jsonb text (a space after each comma) is over 100 kB, and its compact JSON under.
      const zeros = (n: number) => Array(n).fill(0)
      assert.ok(JSON.stringify(zeros(40_000)).length < 100_000)
      const small = await Docket.open(url, { maxPayloadBytes: 100_000 })
      try {
        const id = await addJob(pool, 'emails', 'fits', zeros(40_000), {})
        assert.equal(((await docket.getJob(id)).payload as number[]).length, 40_000)
        await small.add({ queue: 'emails', type: 'fits', payload: zeros(40_000) })
        const over = JSON.stringify(zeros(60_000)).length
        await assert.rejects(
          addJob(pool, 'emails', 'big', zeros(60_000), {}),
          (e: Error & { code?: string }) => {
            assert.equal(e.code, '22023')
            assert.equal(e.message, `add_job: payload: ${over} bytes of JSON is over the limit of 100000`)
            return true
          },
        )
        await assert.rejects(small.add({ queue: 'emails', type: 'big', payload: zeros(60_000) }), {
          message: `invalid payload: ${over} bytes of JSON is over the limit of 100000`,
        })
      } finally {
        await small.close()
      }
      const large = await Docket.open(url, { maxPayloadBytes: 2 * 1024 * 1024 })
      try {
        const big = { big: 'x'.repeat(1_500_000) }
        await addJob(pool, 'emails', 'big', big, {})
        await large.add({ queue: 'emails', type: 'big', payload: big })
      } finally {
        await large.close()
      }
      // Back to the default, for whoever adds next.
      await (await Docket.open(url, { maxPayloadBytes: 1024 * 1024 })).close()
      await assert.rejects(
        addJob(pool, 'emails', 'big', { big: 'x'.repeat(1_100_000) }, {}),
        /over the limit of 1048576/,
      )
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
  })
})
