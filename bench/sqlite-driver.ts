/**
 * node:sqlite (built into Node 22.5+) against better-sqlite3, on the
 * statements Docket's SQLite driver runs on its hot paths, with the same SQL
 * text, the same schema (the bundled migrations) and a real file in WAL mode:
 *
 *   open       the pragmas of db.ts and the migrations, on a new file
 *   add        one job per transaction: the queue read, the id check, the
 *              INSERT ... RETURNING and the 'added' event (add.ts)
 *   bulk add   N jobs in one transaction, the same statements per job
 *   claim+complete  one claim of up to 100 (queue read, claim select by the
 *              priority index, lease UPDATE ... RETURNING, state event, attempt
 *              row per job; leases.ts), then one completion transaction for
 *              the batch (fenced UPDATE ... RETURNING, state event, attempt
 *              close per job)
 *
 * Each library runs in its own child process (a fresh heap and page cache
 * per round), rounds alternate between the two, and the medians are printed.
 * Not a test: `npx tsx bench/sqlite-driver.ts` (BENCH_ROUNDS, BENCH_JOBS,
 * BENCH_SINGLE to change the sizes).
 */
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrations } from '../src/storage/sqlite/migrations.generated.js'

type Library = 'better-sqlite3' | 'node:sqlite'
type Params = unknown[] | [Record<string, unknown>]

/** The few calls the driver makes, over either library. */
interface Conn {
  exec(sql: string): void
  pragma(sql: string): void
  prepare(sql: string): {
    run(...p: Params): unknown
    get(...p: Params): unknown
    all(...p: Params): unknown[]
  }
  /** An IMMEDIATE transaction, as SqliteContext.tx. */
  tx<T>(fn: () => T): T
  close(): void
}

async function connect(library: Library, file: string): Promise<Conn> {
  if (library === 'better-sqlite3') {
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(file)
    return {
      exec: (sql) => db.exec(sql),
      pragma: (sql) => db.pragma(sql),
      prepare: (sql) => db.prepare(sql) as unknown as ReturnType<Conn['prepare']>,
      tx: (fn) => db.transaction(fn).immediate(),
      close: () => db.close(),
    }
  }
  const { DatabaseSync } = await import('node:sqlite')
  const db = new DatabaseSync(file)
  // Prepared once, as better-sqlite3's transaction() keeps its BEGIN and COMMIT prepared.
  const [begin, commit, rollback] = ['BEGIN IMMEDIATE', 'COMMIT', 'ROLLBACK'].map((sql) => db.prepare(sql))
  return {
    exec: (sql) => db.exec(sql),
    pragma: (sql) => db.exec(`PRAGMA ${sql}`),
    prepare: (sql) => db.prepare(sql) as unknown as ReturnType<Conn['prepare']>,
    tx(fn) {
      begin!.run()
      try {
        const result = fn()
        commit!.run()
        return result
      } catch (error) {
        rollback!.run()
        throw error
      }
    },
    close: () => db.close(),
  }
}

/** db.ts's openSqlite and migrations.ts's migrate, on a path Docket owns. */
function open(c: Conn): void {
  c.pragma('journal_mode = WAL')
  c.pragma('busy_timeout = 10000')
  c.pragma('foreign_keys = ON')
  c.pragma('synchronous = NORMAL')
  c.pragma('temp_store = MEMORY')
  c.pragma('cache_size = -16000')
  c.exec(`CREATE TABLE IF NOT EXISTS docket_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
  c.tx(() => {
    for (const m of migrations) {
      c.exec(m.sql)
      c.prepare('INSERT INTO docket_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      )
    }
  })
  c.prepare(
    `INSERT INTO queues (name, description, mode, status, concurrency, ordering, max_attempts, backoff,
       timeout_ms, retention_ms, settings, rate_max, rate_interval_ms, rate_per, group_concurrency, fair,
       group_by_owner, created_at, updated_at)
     VALUES ('bench', NULL, 'automatic', 'active', NULL, 'priority', 3, '{"type":"exponential","delayMs":1000}',
       NULL, NULL, '{}', NULL, NULL, NULL, NULL, 0, 0, ?, ?)`,
  ).run(Date.now(), Date.now())
}

/** The statements, prepared once and cached by text, as SqliteContext.stmt does. */
function statements(c: Conn) {
  return {
    queue: c.prepare('SELECT * FROM queues WHERE name = ?'),
    taken: c.prepare('SELECT 1 FROM jobs WHERE id = ?'),
    insert: c.prepare(
      `INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, timeout_ms,
         owner, batch_id, capabilities, dedupe_key, pending_deps, created_at, estimated_duration_ms,
         traceparent, tracestate, expires_at, group_key)
       VALUES (@id, @queue, @type, @payload, @status, @priority, @runAt, @maxAttempts, @backoff, @timeoutMs,
         @owner, @batchId, @capabilities, @dedupeKey, @pending, @now, @estimatedDurationMs,
         @traceparent, @tracestate, @expiresAt, @group)
       RETURNING *`,
    ),
    event: c.prepare(
      `INSERT INTO events (job_id, queue, worker_id, kind, status, step, percent, message, data, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    stateEvent: c.prepare(
      `INSERT INTO events (job_id, queue, worker_id, kind, status, at) VALUES (?, ?, ?, 'state', ?, ?)`,
    ),
    pick: c.prepare(
      `SELECT j.id FROM jobs j INDEXED BY jobs_claim_priority WHERE j.status IN ('waiting','scheduled')
         AND j.run_at <= @now AND j.queue = @queue
         AND (j.expires_at IS NULL OR j.expires_at > @now)
         AND (j.capabilities IS NULL OR NOT EXISTS (
           SELECT 1 FROM json_each(j.capabilities) c WHERE c.value NOT IN (SELECT value FROM json_each(@caps))))
       ORDER BY j.priority DESC, j.run_at, j.id LIMIT @limit`,
    ),
    lease: c.prepare(
      `UPDATE jobs SET status = 'active', attempts = attempts + 1, worker_id = ?, lease_token = ?, locked_at = ?,
         lease_expires_at = ?, started_at = ?, progress_percent = 0, progress_step = NULL, progress_message = NULL
       WHERE id = ? RETURNING *`,
    ),
    openAttempt: c.prepare(
      `INSERT INTO job_attempts (job_id, seq, attempt, worker_id, started_at, outcome)
       VALUES (?, coalesce((SELECT max(seq) FROM job_attempts WHERE job_id = ?), 0) + 1, ?, ?, ?, 'running')`,
    ),
    complete: c.prepare(
      `UPDATE jobs SET status = 'completed', result = ?, finished_at = ?, duration_ms = ? - started_at,
         progress_percent = 100, lease_ended_token = lease_token, lease_ended_reason = ?,
         lease_ended_attempt = attempts, lease_token = NULL, lease_expires_at = NULL
       WHERE id = ? AND status = 'active' AND lease_token = ? AND lease_expires_at > ?
       RETURNING queue, has_dependents, worker_id`,
    ),
    closeAttempt: c.prepare(
      `UPDATE job_attempts SET finished_at = ?, outcome = ?, error = ?
       WHERE job_id = ? AND finished_at IS NULL RETURNING seq`,
    ),
  }
}
type Statements = ReturnType<typeof statements>

function addOne(s: Statements, now: number, i: number): void {
  s.queue.get('bench')
  const id = randomUUID()
  s.taken.get(id)
  s.insert.get({
    id,
    queue: 'bench',
    type: 'work',
    payload: JSON.stringify({ i, url: `https://example.com/doc/${i}` }),
    status: 'waiting',
    priority: 0,
    runAt: now,
    maxAttempts: 3,
    backoff: '{"type":"exponential","delayMs":1000}',
    timeoutMs: null,
    owner: null,
    batchId: null,
    capabilities: null,
    dedupeKey: null,
    pending: 0,
    now,
    estimatedDurationMs: null,
    traceparent: null,
    tracestate: null,
    expiresAt: null,
    group: null,
  })
  s.event.run(id, 'bench', null, 'added', 'waiting', null, null, null, null, now)
}

/** One claim of up to `limit`, then one completion of what it claimed; how many it claimed. */
function claimAndComplete(c: Conn, s: Statements, limit: number): number {
  const worker = 'bench-worker'
  const leased = c.tx(() => {
    const now = Date.now()
    s.queue.get('bench')
    const ids = (s.pick.all({ now, queue: 'bench', caps: '[]', limit }) as { id: string }[]).map((r) => r.id)
    return ids.map((id) => {
      const row = s.lease.get(worker, randomUUID(), now, now + 30_000, now, id) as {
        queue: string
        attempts: number
        lease_token: string
      }
      s.stateEvent.run(id, row.queue, worker, 'active', now)
      s.openAttempt.run(id, id, Number(row.attempts), worker, now)
      return { id, token: row.lease_token }
    })
  })
  c.tx(() => {
    const now = Date.now()
    for (const j of leased) {
      const row = s.complete.get('{"ok":true}', now, now, 'completed', j.id, j.token, now) as
        | { queue: string }
        | undefined
      if (!row) throw new Error(`lost the lease on ${j.id}`)
      s.stateEvent.run(j.id, row.queue, worker, 'completed', now)
      s.closeAttempt.get(now, 'completed', null, j.id)
    }
  })
  return leased.length
}

interface Round {
  openMs: number
  addPerSec: number
  bulkPerSec: number
  claimCompletePerSec: number
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9

/** One round of one library, in this process, on a new file. */
async function round(library: Library, jobs: number, single: number): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), 'docket-sqlite-driver-'))
  try {
    const c = await connect(library, join(dir, 'bench.db'))
    let start = process.hrtime.bigint()
    open(c)
    const openMs = seconds(start) * 1000
    const s = statements(c)

    start = process.hrtime.bigint()
    for (let i = 0; i < single; i++) c.tx(() => addOne(s, Date.now(), i))
    const addPerSec = single / seconds(start)

    start = process.hrtime.bigint()
    for (let done = 0; done < jobs; done += 1000) {
      c.tx(() => {
        const now = Date.now()
        for (let i = 0; i < Math.min(1000, jobs - done); i++) addOne(s, now, done + i)
      })
    }
    const bulkPerSec = jobs / seconds(start)

    start = process.hrtime.bigint()
    let claimed = 0
    for (let n = claimAndComplete(c, s, 100); n > 0; n = claimAndComplete(c, s, 100)) claimed += n
    const claimCompletePerSec = claimed / seconds(start)
    if (claimed !== jobs + single) throw new Error(`claimed ${claimed} of ${jobs + single}`)
    c.close()
    return { openMs, addPerSec, bulkPerSec, claimCompletePerSec }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

async function main(): Promise<void> {
  const child = process.env.BENCH_SQLITE_CHILD as Library | undefined
  const jobs = Number(process.env.BENCH_JOBS ?? 20_000)
  const single = Number(process.env.BENCH_SINGLE ?? 2_000)
  if (child) {
    process.stdout.write(JSON.stringify(await round(child, jobs, single)))
    return
  }
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5)
  const libraries: Library[] = ['better-sqlite3', 'node:sqlite']
  const results = new Map<Library, Round[]>(libraries.map((l) => [l, []]))
  const { version: betterVersion } = (await import('better-sqlite3/package.json', { with: { type: 'json' } }))
    .default as { version: string }
  const { DatabaseSync } = await import('node:sqlite')
  const engine = (db: { prepare(s: string): { get(): unknown } }) =>
    (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
  const { default: Database } = await import('better-sqlite3')
  console.log(
    `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores); ` +
      `better-sqlite3 ${betterVersion} (SQLite ${engine(new Database(':memory:'))}), ` +
      `node:sqlite (SQLite ${engine(new DatabaseSync(':memory:'))})`,
  )
  console.log(`${rounds} rounds, ${single} single adds, ${jobs} jobs bulk-added in chunks of 1,000\n`)
  for (let r = 0; r < rounds; r++) {
    // Alternate which library goes first, so neither always runs on a warmer machine.
    for (const library of r % 2 ? [...libraries].reverse() : libraries) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--no-warnings', import.meta.filename], {
        env: { ...process.env, BENCH_SQLITE_CHILD: library },
        encoding: 'utf8',
      })
      const result = JSON.parse(out) as Round
      results.get(library)!.push(result)
      console.log(
        `round ${r + 1} ${library.padEnd(15)} open ${result.openMs.toFixed(1).padStart(6)} ms  ` +
          `add ${result.addPerSec.toFixed(0).padStart(6)}/s  bulk ${result.bulkPerSec.toFixed(0).padStart(7)}/s  ` +
          `claim+complete ${result.claimCompletePerSec.toFixed(0).padStart(6)}/s`,
      )
    }
  }
  const med = (l: Library, k: keyof Round) => median(results.get(l)!.map((x) => x[k]))
  console.log('\nmedians                     better-sqlite3   node:sqlite   node:sqlite / better-sqlite3')
  const rows: [string, keyof Round, string][] = [
    ['open + migrate (ms)', 'openMs', 'ms'],
    ['add, one per tx (jobs/s)', 'addPerSec', '/s'],
    ['bulk add (jobs/s)', 'bulkPerSec', '/s'],
    ['claim+complete (jobs/s)', 'claimCompletePerSec', '/s'],
  ]
  for (const [label, key] of rows) {
    const b = med('better-sqlite3', key)
    const n = med('node:sqlite', key)
    console.log(
      `${label.padEnd(28)}${b.toFixed(key === 'openMs' ? 1 : 0).padStart(14)}${n.toFixed(key === 'openMs' ? 1 : 0).padStart(14)}${`${((n / b) * 100).toFixed(0)} %`.padStart(12)}`,
    )
  }
}

await main()
