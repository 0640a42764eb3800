/**
 * Migrating real databases on both drivers: an empty one to the latest
 * version; one at each earlier version (built with the runner from the first
 * k migrations, as an older Docket left it, with rows in it) to the latest,
 * its rows intact and its schema the same as a fresh one's; and several
 * processes opening a new database at once, which migrate it once.
 *
 * A migration that adds a table or a column should add a seed below: rows
 * written at that version, and a check that they survive and still work.
 */
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { storeOf } from '../../src/docket/store-of.js'
import { Docket } from '../../src/index.js'
import { parsePostgresUrl } from '../../src/storage/postgres/db.js'
import {
  migrate as migratePostgres,
  migrations as postgresMigrations,
} from '../../src/storage/postgres/migrations.js'
import {
  migrate as migrateSqlite,
  migrations as sqliteMigrations,
} from '../../src/storage/sqlite/migrations.js'
import type { Driver } from '../support/helpers.js'
import { freshPostgresSchema } from '../support/postgres.js'

type Row = Record<string, unknown>

interface Target {
  url: string
  /** Applies migrations 1..k with the runner, as a Docket of version k would have. */
  migrateTo(k: number): Promise<void>
  exec(sql: string): Promise<void>
  query(sql: string): Promise<Row[]>
  /** Every table, column, index, constraint and function, comparable across targets. */
  schema(): Promise<unknown>
  cleanup(): Promise<void>
}

const lists = { sqlite: sqliteMigrations, postgres: postgresMigrations }

async function sqliteTarget(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'docket-migrate-'))
  const path = join(dir, 'docket.db')
  const withDb = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(path)
    try {
      return fn(db)
    } finally {
      db.close()
    }
  }
  return {
    url: path,
    migrateTo: async (k) => withDb((db) => migrateSqlite(db, sqliteMigrations.slice(0, k))),
    exec: async (sql) => withDb((db) => void db.exec(sql)),
    query: async (sql) => withDb((db) => db.prepare(sql).all() as Row[]),
    schema: async () =>
      withDb((db) =>
        db
          .prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
          )
          .all(),
      ),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  }
}

async function postgresTarget(): Promise<Target> {
  const fresh = await freshPostgresSchema()
  const { connectionString } = parsePostgresUrl(fresh.url)
  const pool = new pg.Pool({ connectionString, max: 2, options: `-c search_path=${fresh.schema}` })
  const query = async (sql: string) => (await pool.query(sql)).rows as Row[]
  // Each target has its own schema, whose name appears in index and function definitions.
  const anonymous = (rows: Row[]) => JSON.parse(JSON.stringify(rows).replaceAll(fresh.schema, '<schema>'))
  return {
    url: fresh.url,
    // At the latest version, with today's living functions too; earlier, with the functions its migrations defined.
    migrateTo: (k) =>
      migratePostgres(
        pool,
        fresh.schema,
        k === postgresMigrations.length ? postgresMigrations : postgresMigrations.slice(0, k),
      ),
    exec: async (sql) => void (await pool.query(sql)),
    query,
    schema: async () => ({
      columns: anonymous(
        await query(`SELECT table_name, column_name, data_type, is_nullable, column_default
          FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`),
      ),
      indexes: anonymous(
        await query(
          `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname`,
        ),
      ),
      constraints: anonymous(
        await query(`SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
          FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY conname`),
      ),
      functions: anonymous(
        await query(`SELECT p.proname, pg_get_functiondef(p.oid) AS def FROM pg_proc p
          WHERE p.pronamespace = current_schema()::regnamespace ORDER BY p.proname`),
      ),
    }),
    cleanup: async () => {
      await pool.end()
      await fresh.drop()
    },
  }
}

const targetFor = (driver: Driver) => (driver === 'sqlite' ? sqliteTarget() : postgresTarget())

/** Rows written into a database at version `since` or later, and what must hold of them after migrating. */
interface Seed {
  since: number
  sql: string
  check(docket: Docket, target: Target): Promise<void>
}

const JOB_ID = '0190f3c4-58a0-7000-8000-00000000000a'
const BLOB_KEY = 'db:0190f3c4-58a0-7000-8000-0000000000bb'
const BACKOFF = '{"type":"exponential","delayMs":1000,"maxDelayMs":60000,"jitter":0}'
const SCHEDULE_ID = '0190f3c4-58a0-7000-8000-0000000000cc'

/** A queue seeded at its rate limit (one start a moment ago, at most one an hour) starts nothing, and says for how long. */
async function seededRateLimitHolds(docket: Docket): Promise<void> {
  assert.deepEqual((await docket.getQueue('seeded-rl')).rateLimit, { max: 1, intervalMs: 3_600_000 })
  await docket.add('seeded-rl', 'x')
  assert.deepEqual(await docket.workers.claim({ workerId: 'seed-w', queues: ['seeded-rl'], limit: 5 }), [])
  const wait = await docket.workers.rateLimitWaitMs(['seeded-rl'])
  assert.ok(wait !== null && wait > 3_000_000, `waits about an hour, not ${wait}`)
}

/** A fair queue seeded with a group limit of 1 and two jobs of one group starts one of them. */
async function seededGroupsHold(docket: Docket): Promise<void> {
  const q = await docket.getQueue('seeded-grp')
  assert.deepEqual([q.groupConcurrency, q.fair, q.groupByOwner], [1, true, true])
  const claimed = await docket.workers.claim({ workerId: 'seed-g', queues: ['seeded-grp'], limit: 5 })
  // g2 has no turn row in a database from before the fair claim by group: the migration gives it one.
  assert.deepEqual(claimed.map((j) => j.group).sort(), ['g1', 'g2'])
}

/** A schedule seeded an hour behind, with one run: it keeps its run, and its next pass runs once (catchUp latest). */
async function seededScheduleRuns(docket: Docket): Promise<void> {
  const before = await docket.getSchedule(SCHEDULE_ID)
  assert.deepEqual(
    before.runs.map((r) => [r.manual, r.jobId]),
    [[false, JOB_ID]],
  )
  const runs = (await docket.runDueSchedules()).filter((r) => r.scheduleId === SCHEDULE_ID)
  assert.equal(runs.length, 1)
  assert.equal((await docket.getJob(runs[0]!.jobId!)).owner, 'seed-user')
  assert.equal((await docket.getSchedule(SCHEDULE_ID)).runs.length, 2)
}

/** The job, its event, and the API key seeded at version 1 are there, and the job still runs. */
async function seededJobRuns(docket: Docket): Promise<void> {
  const job = await docket.getJob(JOB_ID)
  assert.deepEqual(
    { status: job.status, payload: job.payload, priority: job.priority, queue: job.queue },
    { status: 'waiting', payload: { n: 1 }, priority: 5, queue: 'seeded' },
  )
  assert.deepEqual(
    (await docket.getJobEvents(JOB_ID)).map((e) => [e.kind, e.status]),
    [['state', 'waiting']],
  )
  assert.equal((await docket.getQueue('seeded')).defaults.maxAttempts, 3)
  const key = await storeOf(docket).findApiKey('seed-key-hash')
  assert.deepEqual(key && { name: key.name, role: key.role }, { name: 'seed-user', role: 'user' })
  const [claimed] = await docket.workers.claim({
    workerId: 'w-migrated',
    queues: ['seeded'],
    limit: 1,
    leaseMs: 30_000,
  })
  assert.equal(claimed?.id, JOB_ID)
  await docket.workers.complete(claimed!, { ok: true })
  assert.equal((await docket.getJob(JOB_ID)).status, 'completed')
}

/** A lapsed leadership lease seeded with term `seededTerm` is taken over with the next term. */
const leaseTakenOver = (seededTerm: number) => async (docket: Docket) => {
  const term = await docket.leadership.acquire('seeded-lease', 'new-holder', 5_000)
  assert.deepEqual(term, { name: 'seeded-lease', holder: 'new-holder', term: seededTerm + 1 })
}

const ATTEMPTED_ID = '0190f3c4-58a0-7000-8000-00000000000b'
const BATCH_ID = '0190f3c4-58a0-7000-8000-00000000000c'

/** The attempt, the expiry, the dependency type and the batch's then job seeded at the job-semantics migration read back. */
async function seededAttemptReads(docket: Docket): Promise<void> {
  const job = await docket.getJob(ATTEMPTED_ID)
  assert.equal(job.status, 'completed')
  assert.equal(job.expiresAt?.getTime(), T + 60_000)
  assert.deepEqual(
    job.dependencies.upstream.map((u) => [u.id, u.on]),
    [[JOB_ID, 'completion']],
  )
  assert.equal((await docket.getBatch(BATCH_ID)).thenJobId, ATTEMPTED_ID)
  assert.deepEqual(
    job.attemptHistory.map((a) => ({ attempt: a.attempt, workerId: a.workerId, outcome: a.outcome })),
    [{ attempt: 1, workerId: 'w-seed', outcome: 'completed' }],
  )
}

const VIEWER_HASH = 'a'.repeat(64)
/** A viewer token seeded for the seeded job still opens it. */
async function viewerTokenOpens(docket: Docket): Promise<void> {
  assert.equal((await docket.access.findViewerToken(VIEWER_HASH))?.jobId, JOB_ID)
}

const TRACED_ID = '0190f3c4-58a0-7000-8000-00000000000c'
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'

/** A job stored with a trace context (the traceparent and tracestate columns) hands it to its worker. */
async function tracedJobCarriesItsContext(docket: Docket): Promise<void> {
  const [claimed] = await docket.workers.claim({ workerId: 'w-traced', queues: ['traced'], limit: 1 })
  assert.equal(claimed?.id, TRACED_ID)
  assert.deepEqual(claimed?.traceContext, { traceparent: TRACEPARENT, tracestate: 'vendor=1' })
  await docket.workers.complete(claimed!, null)
}

const T = 1_700_000_000_000
const seeds: Record<Driver, Seed[]> = {
  sqlite: [
    {
      since: 1,
      sql: `
INSERT INTO queues (name, mode, status, ordering, max_attempts, backoff, created_at, updated_at)
  VALUES ('seeded', 'automatic', 'active', 'priority', 3, '${BACKOFF}', ${T}, ${T});
INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, created_at)
  VALUES ('${JOB_ID}', 'seeded', 'seed', '{"n":1}', 'waiting', 5, ${T}, 3, '${BACKOFF}', ${T});
INSERT INTO events (job_id, queue, kind, status, at) VALUES ('${JOB_ID}', 'seeded', 'state', 'waiting', ${T});
INSERT INTO principals (id, name, role, created_at) VALUES ('p-seed', 'seed-user', 'user', ${T});
INSERT INTO api_keys (id, principal_id, prefix, hash, created_at)
  VALUES ('k-seed', 'p-seed', 'dk_seed', 'seed-key-hash', ${T});`,
      check: seededJobRuns,
    },
    {
      // Version 1 leases have no term; migration 2 gives them term 0.
      since: 1,
      sql: `INSERT INTO leader_leases (name, holder, expires_at) VALUES ('seeded-lease', 'old-holder', ${T});`,
      check: leaseTakenOver(0),
    },
    {
      since: 6,
      sql: `INSERT INTO viewer_tokens (token_hash, job_id, created_at, expires_at)
  VALUES ('${VIEWER_HASH}', '${JOB_ID}', ${T}, 4102444800000);`,
      check: viewerTokenOpens,
    },
    {
      // The trace context of the add (migration 7).
      since: 7,
      sql: `
INSERT INTO queues (name, mode, status, ordering, max_attempts, backoff, created_at, updated_at)
  VALUES ('traced', 'automatic', 'active', 'priority', 3, '${BACKOFF}', ${T}, ${T});
INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, created_at,
    traceparent, tracestate)
  VALUES ('${TRACED_ID}', 'traced', 'seed', '{}', 'waiting', 5, ${T}, 3, '${BACKOFF}', ${T},
    '${TRACEPARENT}', 'vendor=1');`,
      check: tracedJobCarriesItsContext,
    },
    {
      // Every attempt kept (migration 8).
      since: 8,
      sql: `
INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, attempts, max_attempts, backoff, created_at, expires_at)
  VALUES ('${ATTEMPTED_ID}', 'seeded', 'seed', 'null', 'completed', 5, ${T}, 1, 3, '${BACKOFF}', ${T}, ${T + 60_000});
INSERT INTO job_attempts (job_id, seq, attempt, worker_id, started_at, finished_at, outcome)
  VALUES ('${ATTEMPTED_ID}', 1, 1, 'w-seed', ${T}, ${T}, 'completed');
INSERT INTO job_dependencies (job_id, depends_on, type) VALUES ('${ATTEMPTED_ID}', '${JOB_ID}', 'completion');
INSERT INTO batches (id, name, owner, created_at, then_job_id) VALUES ('${BATCH_ID}', 'seeded', NULL, ${T}, '${ATTEMPTED_ID}');`,
      check: seededAttemptReads,
    },
    {
      since: 9,
      sql: `
INSERT INTO schedules (id, name, owner, every_ms, queue, type, payload, options, catch_up, overlap, enabled,
    tick_cursor, next_run_at, created_at, updated_at)
  VALUES ('${SCHEDULE_ID}', 'seeded', 'seed-user', 60000, 'seeded', 'tick', '{"n":2}', '{}', 'latest', 'allow', 1,
    ${T} - 3600000, ${T} - 3540000, ${T} - 3600000, ${T} - 3600000);
INSERT INTO schedule_runs (schedule_id, tick_at, job_id, created_at)
  VALUES ('${SCHEDULE_ID}', ${T} - 3600000, '${JOB_ID}', ${T} - 3600000);`,
      check: seededScheduleRuns,
    },
    {
      since: 10,
      sql: `
INSERT INTO queues (name, mode, status, ordering, max_attempts, backoff, rate_max, rate_interval_ms, created_at, updated_at)
  VALUES ('seeded-rl', 'automatic', 'active', 'priority', 3, '${BACKOFF}', 1, 3600000, ${T}, ${T});
INSERT INTO rate_limit_starts (queue, at) VALUES ('seeded-rl', CAST(unixepoch('subsec') * 1000 AS INTEGER) - 1000);`,
      check: seededRateLimitHolds,
    },
    {
      since: 11,
      sql: `
INSERT INTO queues (name, mode, status, ordering, max_attempts, backoff, group_concurrency, fair, group_by_owner,
    created_at, updated_at)
  VALUES ('seeded-grp', 'automatic', 'active', 'priority', 3, '${BACKOFF}', 1, 1, 1, ${T}, ${T});
INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, created_at, group_key)
  VALUES ('0190f3c4-58a0-7000-8000-0000000000d1', 'seeded-grp', 'g', '{}', 'waiting', 5, ${T}, 3, '${BACKOFF}', ${T}, 'g1'),
    ('0190f3c4-58a0-7000-8000-0000000000d2', 'seeded-grp', 'g', '{}', 'waiting', 5, ${T}, 3, '${BACKOFF}', ${T}, 'g1'),
    ('0190f3c4-58a0-7000-8000-0000000000d3', 'seeded-grp', 'g', '{}', 'waiting', 5, ${T}, 3, '${BACKOFF}', ${T}, 'g2');
INSERT INTO group_turns (queue, group_key, served) VALUES ('seeded-grp', 'g1', 1)
  ON CONFLICT (queue, group_key) DO UPDATE SET served = 1; -- from version 12 (PostgreSQL 17) a trigger made the row`,
      check: seededGroupsHold,
    },
  ],
  postgres: [
    {
      since: 1,
      sql: `
INSERT INTO queues (name, mode, status, ordering, max_attempts, backoff)
  VALUES ('seeded', 'automatic', 'active', 'priority', 3, '${BACKOFF}');
INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, created_at)
  VALUES ('${JOB_ID}', 'seeded', 'seed', '{"n":1}', 'waiting', 5, now() - interval '1 minute', 3, '${BACKOFF}', now());
INSERT INTO events (job_id, queue, kind, status) VALUES ('${JOB_ID}', 'seeded', 'state', 'waiting');
INSERT INTO principals (id, name, role) VALUES ('p-seed', 'seed-user', 'user');
INSERT INTO api_keys (id, principal_id, prefix, hash) VALUES ('k-seed', 'p-seed', 'dk_seed', 'seed-key-hash');`,
      check: seededJobRuns,
    },
    {
      since: 2,
      sql: `INSERT INTO leader_leases (name, holder, term, expires_at)
  VALUES ('seeded-lease', 'old-holder', 7, now() - interval '1 hour');`,
      check: leaseTakenOver(7),
    },
    {
      // Artifact bytes in the database (migration 8): a finished blob of two chunks still reads back whole.
      since: 8,
      sql: `INSERT INTO artifact_blobs (storage_key, stored_at, size, sha256)
  VALUES ('${BLOB_KEY}', now(), 11, 'unchecked');
INSERT INTO artifact_chunks (storage_key, seq, data) VALUES ('${BLOB_KEY}', 0, 'hello'::bytea), ('${BLOB_KEY}', 1, ' world'::bytea);`,
      check: async (docket) => {
        assert.equal(await text(docket.artifacts.open(BLOB_KEY)), 'hello world')
      },
    },
    {
      since: 10,
      sql: `INSERT INTO viewer_tokens (token_hash, job_id, expires_at)
  VALUES ('${VIEWER_HASH}', '${JOB_ID}', now() + interval '1 day');`,
      check: viewerTokenOpens,
    },
    {
      // The trace context of the add (migration 11).
      since: 11,
      sql: `
INSERT INTO queues (name, mode, status, ordering, max_attempts, backoff)
  VALUES ('traced', 'automatic', 'active', 'priority', 3, '${BACKOFF}');
INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, created_at,
    traceparent, tracestate)
  VALUES ('${TRACED_ID}', 'traced', 'seed', '{}', 'waiting', 5, now() - interval '1 minute', 3, '${BACKOFF}',
    now(), '${TRACEPARENT}', 'vendor=1');`,
      check: tracedJobCarriesItsContext,
    },
    {
      // Every attempt kept (migration 12).
      since: 12,
      sql: `
INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, attempts, max_attempts, backoff, created_at, expires_at)
  VALUES ('${ATTEMPTED_ID}', 'seeded', 'seed', 'null', 'completed', 5, now(), 1, 3, '${BACKOFF}', now(), to_timestamp(${(T + 60_000) / 1000}));
INSERT INTO job_attempts (job_id, seq, attempt, worker_id, started_at, finished_at, outcome)
  VALUES ('${ATTEMPTED_ID}', 1, 1, 'w-seed', now(), now(), 'completed');
INSERT INTO job_dependencies (job_id, depends_on, type) VALUES ('${ATTEMPTED_ID}', '${JOB_ID}', 'completion');
INSERT INTO batches (id, name, owner, then_job_id) VALUES ('${BATCH_ID}', 'seeded', NULL, '${ATTEMPTED_ID}');`,
      check: seededAttemptReads,
    },
    {
      since: 13,
      sql: `
INSERT INTO schedules (id, name, owner, every_ms, queue, type, payload, options, catch_up, overlap, enabled,
    tick_cursor, next_run_at, created_at, updated_at)
  VALUES ('${SCHEDULE_ID}', 'seeded', 'seed-user', 60000, 'seeded', 'tick', '{"n":2}', '{}', 'latest', 'allow', true,
    now() - interval '1 hour', now() - interval '59 minutes', now() - interval '1 hour', now() - interval '1 hour');
INSERT INTO schedule_runs (schedule_id, tick_at, job_id, created_at)
  VALUES ('${SCHEDULE_ID}', now() - interval '1 hour', '${JOB_ID}', now() - interval '1 hour');`,
      check: seededScheduleRuns,
    },
    {
      since: 14,
      sql: `
INSERT INTO queues (name, mode, status, ordering, max_attempts, backoff, rate_max, rate_interval_ms)
  VALUES ('seeded-rl', 'automatic', 'active', 'priority', 3, '${BACKOFF}', 1, 3600000);
INSERT INTO rate_limit_starts (queue, at) VALUES ('seeded-rl', now() - interval '1 second');`,
      check: seededRateLimitHolds,
    },
    {
      since: 15,
      sql: `
INSERT INTO queues (name, mode, status, ordering, max_attempts, backoff, group_concurrency, fair, group_by_owner)
  VALUES ('seeded-grp', 'automatic', 'active', 'priority', 3, '${BACKOFF}', 1, true, true);
INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, created_at, group_key)
  VALUES ('0190f3c4-58a0-7000-8000-0000000000d1', 'seeded-grp', 'g', '{}', 'waiting', 5, now() - interval '1 minute', 3, '${BACKOFF}', now(), 'g1'),
    ('0190f3c4-58a0-7000-8000-0000000000d2', 'seeded-grp', 'g', '{}', 'waiting', 5, now() - interval '1 minute', 3, '${BACKOFF}', now(), 'g1'),
    ('0190f3c4-58a0-7000-8000-0000000000d3', 'seeded-grp', 'g', '{}', 'waiting', 5, now() - interval '1 minute', 3, '${BACKOFF}', now(), 'g2');
INSERT INTO group_turns (queue, group_key, served) VALUES ('seeded-grp', 'g1', 1)
  ON CONFLICT (queue, group_key) DO UPDATE SET served = 1; -- from version 12 (PostgreSQL 17) a trigger made the row`,
      check: seededGroupsHold,
    },
    {
      // The payload limit recorded for add_job (migration 19).
      since: 19,
      sql: `INSERT INTO settings (name, value, updated_at) VALUES ('max_payload_bytes', '64', now());`,
      check: async (_docket, target) => {
        await target.query(`SELECT add_job('seeded', 'small', '"${'x'.repeat(60)}"')`)
        await assert.rejects(
          target.query(`SELECT add_job('seeded', 'large', '"${'x'.repeat(70)}"')`),
          /72 bytes of JSON is over the limit of 64/,
        )
      },
    },
  ],
}

const recordedVersions = async (target: Target) =>
  (await target.query('SELECT version, name FROM docket_migrations ORDER BY version')).map((r) => ({
    version: Number(r.version),
    name: r.name,
  }))

const expectedVersions = (driver: Driver, k = lists[driver].length) =>
  lists[driver].slice(0, k).map((m) => ({ version: m.version, name: m.name }))

/** Opens Docket on `url` in `n` child processes at the same moment; each must exit 0. */
async function openAtOnce(url: string, n: number): Promise<void> {
  const children = Array.from({ length: n }, () =>
    fork(join(import.meta.dirname, 'fixtures', 'open-docket.ts'), [url], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  )
  const exits = children.map((c) => new Promise<number | null>((resolve) => c.once('exit', resolve)))
  await Promise.all(
    children.map(
      (c, i) =>
        new Promise<void>((resolve, reject) => {
          c.once('message', () => resolve())
          void exits[i]!.then((code) =>
            reject(new Error(`process ${i} exited with ${code} before it was ready`)),
          )
        }),
    ),
  )
  for (const c of children) c.send('go')
  assert.deepEqual(await Promise.all(exits), Array(n).fill(0), 'every process opened the database')
}

for (const driver of ['sqlite', 'postgres'] as const) {
  describe(`migrations [${driver}]`, () => {
    const latest = lists[driver].length
    let freshSchema: unknown

    before(async () => {
      const target = await targetFor(driver)
      await target.migrateTo(latest)
      freshSchema = await target.schema()
      await target.cleanup()
    })

    it('an empty database migrates to the latest version, and Docket runs on it', async () => {
      const target = await targetFor(driver)
      try {
        const docket = await Docket.open(target.url)
        try {
          await docket.createQueue({ name: 'fresh' })
          const job = await docket.add('fresh', 'hello', { n: 1 })
          const [claimed] = await docket.workers.claim({
            workerId: 'w',
            queues: ['fresh'],
            limit: 1,
            leaseMs: 30_000,
          })
          assert.equal(claimed?.id, job.id)
          await docket.workers.complete(claimed!)
          assert.equal((await docket.getJob(job.id)).status, 'completed')
        } finally {
          await docket.close()
        }
        assert.deepEqual(await recordedVersions(target), expectedVersions(driver))
        assert.deepEqual(await target.schema(), freshSchema)
      } finally {
        await target.cleanup()
      }
    })

    for (let k = 1; k <= latest; k++) {
      const at = lists[driver][k - 1]!
      const what =
        k === latest
          ? `a database at the latest version (${k}, ${at.name}) opens unchanged, its data intact`
          : `a database at version ${k} (${at.name}) migrates to ${latest} with its data intact`
      it(what, async () => {
        const target = await targetFor(driver)
        try {
          await target.migrateTo(k)
          assert.deepEqual(await recordedVersions(target), expectedVersions(driver, k))
          const present = seeds[driver].filter((s) => s.since <= k)
          assert.ok(present.length > 0, `no seed rows for version ${k}`)
          for (const seed of present) await target.exec(seed.sql)

          const docket = await Docket.open(target.url)
          try {
            for (const seed of present) await seed.check(docket, target)
          } finally {
            await docket.close()
          }
          assert.deepEqual(await recordedVersions(target), expectedVersions(driver))
          assert.deepEqual(
            await target.schema(),
            freshSchema,
            'the same schema as a database migrated from empty',
          )
        } finally {
          await target.cleanup()
        }
      })
    }

    if (driver === 'postgres')
      it("Docket's triggers work for SQL from any search_path (an operator's psql naming the schema)", async () => {
        const fresh = await freshPostgresSchema()
        const docket = await Docket.open(fresh.url)
        const outside = new pg.Client({ connectionString: parsePostgresUrl(fresh.url).connectionString })
        await outside.connect()
        try {
          await docket.createQueue({ name: 'fair', fair: true })
          const job = await docket.add('fair', 't', { n: 1 }, { group: 'g1' })
          const s = `"${fresh.schema}"`
          await outside.query('SET search_path TO public')
          // A copy inserted, and a job sent back to waiting: both fire the group-turn triggers.
          await outside.query(
            `INSERT INTO ${s}.jobs SELECT (jsonb_populate_record(NULL::${s}.jobs,
               to_jsonb(j) || jsonb_build_object('id', gen_random_uuid(), 'group_key', 'g2'))).*
             FROM ${s}.jobs j WHERE id = $1`,
            [job.id],
          )
          await outside.query(`UPDATE ${s}.jobs SET status = 'held' WHERE id = $1`, [job.id])
          await outside.query(`UPDATE ${s}.jobs SET status = 'waiting' WHERE id = $1`, [job.id])
          const turns = await outside.query(`SELECT group_key FROM ${s}.group_turns ORDER BY group_key`)
          assert.deepEqual(
            turns.rows.map((r) => r.group_key),
            ['g1', 'g2'],
          )
        } finally {
          await outside.end()
          await docket.close()
          await fresh.drop()
        }
      })

    it('three processes opening a new database at once migrate it exactly once', async () => {
      const target = await targetFor(driver)
      try {
        await openAtOnce(target.url, 3)
        assert.deepEqual(await recordedVersions(target), expectedVersions(driver))
        assert.deepEqual(await target.schema(), freshSchema)
      } finally {
        await target.cleanup()
      }
    })

    it('three processes opening a database at version 1 at once migrate it forward exactly once', async () => {
      const target = await targetFor(driver)
      try {
        await target.migrateTo(1)
        await openAtOnce(target.url, 3)
        assert.deepEqual(await recordedVersions(target), expectedVersions(driver))
        assert.deepEqual(await target.schema(), freshSchema)
      } finally {
        await target.cleanup()
      }
    })
  })
}
