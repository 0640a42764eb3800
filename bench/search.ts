/**
 * Job search benchmark: a million jobs per driver, then the list queries the
 * dashboard's search sends, timed with and without the indexes migration 0003
 * adds, and what those indexes cost the write path. Not a test; run alone:
 *
 *   npm run bench:search                 # both drivers, 1,000,000 jobs each
 *   BENCH_SEARCH_JOBS=100000 BENCH_SEARCH_DRIVERS=sqlite npm run bench:search
 *
 * Per driver: load the jobs set-based (one INSERT … SELECT) with the search
 * indexes dropped, build them (timed: that is what migrating a database of
 * this size costs), time each query BENCH_SEARCH_RUNS (15) times with a
 * different value each run (p50/p95 in ms), time addMany and claim+complete
 * of 20,000 new jobs, then drop the indexes and time it all again (the
 * queries BENCH_SEARCH_RUNS_NO_INDEX (5) times: a scan of every row is slow).
 *
 * PostgreSQL: DOCKET_BENCH_PG_URL, else postgres://postgres@127.0.0.1:5432/test,
 * in a throwaway schema. SQLite: a temp file.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { Docket, type ListJobsInput } from '../src/index.js'
import { num, percentile } from './lib/stats.js'

const N = Number(process.env.BENCH_SEARCH_JOBS ?? 1_000_000)
const RUNS = Number(process.env.BENCH_SEARCH_RUNS ?? 15)
/** Unindexed searches scan every row: fewer runs of those (their p95 is then close to the slowest). */
const RUNS_NO_INDEX = Number(process.env.BENCH_SEARCH_RUNS_NO_INDEX ?? 5)
const WRITES = Number(process.env.BENCH_SEARCH_WRITES ?? 20_000)
const DRIVERS = (process.env.BENCH_SEARCH_DRIVERS ?? 'sqlite,postgres').split(',')
const QUEUES = ['mail', 'media', 'docs', 'billing', 'reports']
const TYPES = ['send', 'resize', 'ocr', 'charge', 'render', 'extract', 'summarize', 'notify']
const CUSTOMERS = 50_000
const STEP_MS = 2_500
const SEARCH_INDEXES = ['jobs_short_id', 'jobs_payload', 'jobs_search_trgm']
/** The optional PostgreSQL search indexes, exactly as docs/search.md gives them. */
const OPTIONAL_PG_INDEXES = [
  'CREATE INDEX jobs_payload ON jobs USING gin (payload jsonb_path_ops)',
  "CREATE INDEX jobs_search_trgm ON jobs USING gin ((payload::text || chr(10) || coalesce(last_error->>'message', '')) public.gin_trgm_ops)",
]

/** What one driver needs besides the Docket: raw SQL for the load and the index DDL. */
interface Raw {
  exec(sql: string, values?: unknown[]): Promise<void>
  /** The CREATE statements of the search indexes that exist now. */
  indexDefinitions(): Promise<string[]>
  /** After a bulk change: statistics, and the bulk write's after-work done now, not in the first timed call. */
  settle(): Promise<void>
  close(): Promise<void>
}

// Job i: queue, type, owner, status and payload follow from i, the same on both drivers.
// 1 in 10 failed with an error naming one of 1,000 hosts, 1 in 20 waiting, the rest completed;
// 1 in 10 owned by alice; customer i % 50,000 (20 jobs each); a unique file name per job.
const sqliteLoad = (base: number) => `
  WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${N - 1}),
  g AS (SELECT i, ${base} + i * ${STEP_MS} AS ms, printf('%012x', ${base} + i * ${STEP_MS}) AS h,
               lower(hex(randomblob(9))) AS r FROM n)
  INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, attempts, max_attempts, backoff,
                    last_error, error_count, owner, created_at, started_at, finished_at, duration_ms)
  SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(r, 1, 3) || '-8' || substr(r, 4, 3) || '-' || substr(r, 7, 12),
    json_extract('${JSON.stringify(QUEUES)}', '$[' || (i % ${QUEUES.length}) || ']'),
    json_extract('${JSON.stringify(TYPES)}', '$[' || (i % ${TYPES.length}) || ']'),
    json_object('customerId', i % ${CUSTOMERS},
                'user', json_object('email', 'user' || (i % ${CUSTOMERS}) || '@example.com', 'name', 'Customer ' || (i % ${CUSTOMERS})),
                'file', 'report-' || i || '.pdf', 'pages', i % 300),
    CASE WHEN i % 10 = 0 THEN 'failed' WHEN i % 20 = 1 THEN 'waiting' ELSE 'completed' END,
    50, ms, CASE WHEN i % 20 = 1 THEN 0 ELSE 1 END, 3, '{"type":"exponential","delayMs":1000,"maxDelayMs":3600000,"jitter":0.2}',
    CASE WHEN i % 10 = 0 THEN json_object('message', 'upstream timeout contacting host-' || (i % 1000) || '.internal after 30s',
      'name', 'Error', 'stack', NULL, 'attempt', 3, 'at', strftime('%Y-%m-%dT%H:%M:%fZ', ms / 1000.0, 'unixepoch'), 'retryable', json('false')) END,
    CASE WHEN i % 10 = 0 THEN 3 ELSE 0 END,
    CASE WHEN i % 10 = 3 THEN 'alice' ELSE 'user-' || (i % 100) END,
    ms, CASE WHEN i % 20 = 1 THEN NULL ELSE ms + 10 END, CASE WHEN i % 20 = 1 THEN NULL ELSE ms + 500 END,
    CASE WHEN i % 20 = 1 THEN NULL ELSE 490 END
  FROM g`

const pgLoad = (base: number) => `
  INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, attempts, max_attempts, backoff,
                    last_error, error_count, owner, created_at, started_at, finished_at, duration_ms)
  SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(r, 1, 3) || '-8' || substr(r, 4, 3) || '-' || substr(r, 7, 12))::uuid,
    (ARRAY${JSON.stringify(QUEUES).replaceAll('"', "'")})[i % ${QUEUES.length} + 1],
    (ARRAY${JSON.stringify(TYPES).replaceAll('"', "'")})[i % ${TYPES.length} + 1],
    jsonb_build_object('customerId', i % ${CUSTOMERS},
                       'user', jsonb_build_object('email', 'user' || (i % ${CUSTOMERS}) || '@example.com', 'name', 'Customer ' || (i % ${CUSTOMERS})),
                       'file', 'report-' || i || '.pdf', 'pages', i % 300),
    CASE WHEN i % 10 = 0 THEN 'failed' WHEN i % 20 = 1 THEN 'waiting' ELSE 'completed' END,
    50, t, CASE WHEN i % 20 = 1 THEN 0 ELSE 1 END, 3, '{"type":"exponential","delayMs":1000,"maxDelayMs":3600000,"jitter":0.2}',
    CASE WHEN i % 10 = 0 THEN jsonb_build_object('message', 'upstream timeout contacting host-' || (i % 1000) || '.internal after 30s',
      'name', 'Error', 'stack', NULL, 'attempt', 3, 'at', to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'retryable', false) END,
    CASE WHEN i % 10 = 0 THEN 3 ELSE 0 END,
    CASE WHEN i % 10 = 3 THEN 'alice' ELSE 'user-' || (i % 100) END,
    t, CASE WHEN i % 20 = 1 THEN NULL ELSE t + interval '10 ms' END, CASE WHEN i % 20 = 1 THEN NULL ELSE t + interval '500 ms' END,
    CASE WHEN i % 20 = 1 THEN NULL ELSE 490 END
  FROM (SELECT i, lpad(to_hex(${base}::bigint + i::bigint * ${STEP_MS}), 12, '0') AS h, md5(i::text) AS r,
               to_timestamp((${base}::bigint + i::bigint * ${STEP_MS}) / 1000.0) AS t
        FROM generate_series(0, ${N - 1}) AS i) AS g`

async function openSqliteRaw(file: string): Promise<Raw> {
  const db = new Database(file)
  db.pragma('busy_timeout = 10000')
  return {
    async exec(sql) {
      db.exec(sql)
    },
    async indexDefinitions() {
      const list = SEARCH_INDEXES.map((n) => `'${n}'`).join(', ')
      const rows = db
        .prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name IN (${list})`)
        .all()
      return (rows as { sql: string }[]).map((r) => r.sql)
    },
    async settle() {
      db.exec('ANALYZE')
      db.pragma('wal_checkpoint(TRUNCATE)')
    },
    async close() {
      db.close()
    },
  }
}

async function openPgRaw(url: string, schema: string): Promise<Raw> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
  await client.connect()
  return {
    async exec(sql, values) {
      await client.query(sql, values)
    },
    async indexDefinitions() {
      const { rows } = await client.query(
        'SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = ANY($2)',
        [schema, SEARCH_INDEXES],
      )
      // The migration makes only jobs_short_id; the GIN indexes are the optional ones of
      // docs/search.md ("Indexes"), measured here as an operator would add them.
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public')
      const made = new Set(rows.map((r) => /INDEX (\w+)/.exec(r.indexdef as string)?.[1]))
      const optional = OPTIONAL_PG_INDEXES.filter((sql) => !made.has(/INDEX (\w+)/.exec(sql)?.[1]))
      return [...rows.map((r) => r.indexdef as string), ...optional]
    },
    async settle() {
      await client.query('VACUUM ANALYZE jobs')
    },
    async close() {
      await client.end()
    },
  }
}

interface Query {
  name: string
  /** The filter of run `k` (each run asks for a different value, so no run reads another's cache). */
  filter(k: number, ids: string[]): ListJobsInput
}

const QUERIES: Query[] = [
  { name: 'id prefix (13 characters)', filter: (k, ids) => ({ id: ids[k]!.slice(0, 13) }) },
  { name: 'short id (last 8)', filter: (k, ids) => ({ id: ids[k]!.slice(-8) }) },
  { name: 'search: short id', filter: (k, ids) => ({ search: ids[k]!.slice(-8) }) },
  { name: 'search: payload text, 1 match', filter: (k) => ({ search: `report-${(k * 7919 * 13) % N}.pdf` }) },
  {
    name: 'search: error text, ~100 matches',
    filter: (k) => ({ search: `host-${(k * 37) % 1000}.internal` }),
  },
  { name: 'search: common text, first page', filter: () => ({ search: 'example.com' }) },
  { name: 'search: no match', filter: (k) => ({ search: `nothing-like-${k}` }) },
  {
    name: 'search + count (error text)',
    filter: (k) => ({ search: `host-${(k * 41) % 1000}.internal`, count: true }),
  },
  {
    name: 'search as alice (owner)',
    filter: (k) => ({ owner: 'alice', search: `Customer ${(k * 1010 + 3) % CUSTOMERS}"` }),
  },
  {
    name: 'where customerId = N (20 matches)',
    filter: (k) => ({ where: `payload.customerId = ${(k * 997) % CUSTOMERS}` }),
  },
  {
    name: 'where user.email = "…" (20 matches)',
    filter: (k) => ({ where: `payload.user.email = "user${(k * 991) % CUSTOMERS}@example.com"` }),
  },
  { name: 'where pages > 290, first page', filter: (k) => ({ where: `payload.pages > ${290 + (k % 5)}` }) },
  {
    name: 'where + queue + status',
    // queue mail is i % 5 = 0 and failed is i % 10 = 0: customers that are multiples of 10 have such jobs
    filter: (k) => ({
      queue: 'mail',
      status: 'failed',
      where: `payload.customerId = ${((k * 613) % 5000) * 10}`,
    }),
  },
]

async function timeQueries(
  docket: Docket,
  ids: string[],
  label: string,
  runs: number,
  rows: string[][],
): Promise<void> {
  for (const q of QUERIES) {
    const ms: number[] = []
    for (let k = 0; k < runs; k++) {
      const filter = { limit: 50, ...q.filter(k, ids) }
      const start = performance.now()
      await docket.listJobs(filter)
      ms.push(performance.now() - start)
    }
    const row = [q.name, label, num(percentile(ms, 0.5)), num(percentile(ms, 0.95))]
    rows.push(row)
    console.log(
      `  ${row[0]!.padEnd(38)} ${row[1]!.padEnd(10)} p50 ${row[2]!.padStart(8)} ms  p95 ${row[3]!.padStart(8)} ms`,
    )
  }
}

/** addMany then claim+complete of WRITES new jobs (jobs/s of each). */
async function timeWrites(docket: Docket, label: string): Promise<{ add: number; work: number }> {
  const queue = `ingest-${label.replace(/\W/g, '')}`
  await docket.createQueue({ name: queue })
  let start = performance.now()
  for (let i = 0; i < WRITES; i += 1000) {
    await docket.addMany(
      Array.from({ length: Math.min(1000, WRITES - i) }, (_, k) => ({
        queue,
        type: 'send',
        payload: {
          customerId: (i + k) % CUSTOMERS,
          user: { email: `user${(i + k) % CUSTOMERS}@example.com`, name: `Customer ${(i + k) % CUSTOMERS}` },
          file: `upload-${i + k}.pdf`,
          pages: (i + k) % 300,
        },
      })),
    )
  }
  const add = WRITES / ((performance.now() - start) / 1000)
  start = performance.now()
  for (;;) {
    const jobs = await docket.workers.claim({ workerId: 'bench', queues: [queue], limit: 100 })
    if (jobs.length === 0) break
    await docket.workers.completeMany(jobs.map((job) => ({ job, result: { ok: true } })))
  }
  const work = WRITES / ((performance.now() - start) / 1000)
  console.log(
    `  writes ${label.padEnd(14)} addMany ${num(add).padStart(8)} jobs/s   claim+complete ${num(work).padStart(8)} jobs/s`,
  )
  return { add, work }
}

async function bench(driver: string, url: string, raw: () => Promise<Raw>, load: string): Promise<string> {
  console.log(`\n${driver}: ${N.toLocaleString('en-US')} jobs`)
  let docket = await Docket.open(url)
  for (const name of QUEUES) await docket.createQueue({ name })
  await docket.close()
  const r = await raw()
  const definitions = await r.indexDefinitions()
  for (const name of SEARCH_INDEXES) await r.exec(`DROP INDEX IF EXISTS ${name}`)
  let start = performance.now()
  await r.exec(load)
  const loadSeconds = (performance.now() - start) / 1000
  console.log(`  loaded in ${num(loadSeconds)} s`)
  const builds: string[] = []
  for (const sql of definitions) {
    start = performance.now()
    await r.exec(sql)
    const name = /INDEX (\w+)/.exec(sql)?.[1] ?? sql
    builds.push(`${name} ${num((performance.now() - start) / 1000)} s`)
  }
  await r.settle()
  console.log(`  index builds: ${builds.join(', ') || 'none'}`)

  docket = await Docket.open(url)
  const sample = await docket.listJobs({ limit: 1000, sort: 'createdAt', order: 'asc' })
  const ids = sample.jobs.map((j) => j.id).sort(() => Math.random() - 0.5)
  const rows: string[][] = []
  await timeQueries(docket, ids, 'indexed', RUNS, rows)
  const withIndex = await timeWrites(docket, 'indexed')
  for (const name of SEARCH_INDEXES) await r.exec(`DROP INDEX IF EXISTS ${name}`)
  await r.settle()
  await docket.close()
  docket = await Docket.open(url) // fresh connections: no statement planned for the dropped indexes
  await timeQueries(docket, ids, 'no index', RUNS_NO_INDEX, rows)
  const without = await timeWrites(docket, 'no index')
  await docket.close()
  await r.close()

  const table = [
    '| query | indexes | p50 ms | p95 ms |',
    '|---|---|---:|---:|',
    ...QUERIES.flatMap((q) => rows.filter((row) => row[0] === q.name)).map((row) => `| ${row.join(' | ')} |`),
  ]
  const cost = (a: number, b: number) => `${num(((b - a) / b) * 100)} %`
  return [
    `### ${driver}, ${N.toLocaleString('en-US')} jobs`,
    '',
    `Loaded in ${num(loadSeconds)} s; search indexes built in: ${builds.join(', ') || 'none'}.`,
    '',
    ...table,
    '',
    `Write path, ${WRITES.toLocaleString('en-US')} new jobs: addMany ${num(withIndex.add)} jobs/s with the indexes, ${num(without.add)} without (${cost(withIndex.add, without.add)} slower); claim+complete ${num(withIndex.work)} jobs/s with, ${num(without.work)} without (${cost(withIndex.work, without.work)} slower).`,
  ].join('\n')
}

async function main() {
  console.log(
    `Docket search benchmark: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  )
  const base = Date.now() - N * STEP_MS
  const reports: string[] = []
  if (DRIVERS.includes('sqlite')) {
    const dir = mkdtempSync(join(tmpdir(), 'docket-bench-search-'))
    const file = join(dir, 'search.db')
    try {
      reports.push(await bench('SQLite', file, () => openSqliteRaw(file), sqliteLoad(base)))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  if (DRIVERS.includes('postgres')) {
    const url = process.env.DOCKET_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
    const schema = `docket_bench_search_${process.pid}`
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    try {
      const target = `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`
      reports.push(await bench('PostgreSQL', target, () => openPgRaw(url, schema), pgLoad(base)))
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await admin.end()
    }
  }
  console.log(`\n${reports.join('\n\n')}`)
}

await main()
