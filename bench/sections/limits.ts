/**
 * Part 5: the physical limit, so that every queue's figure can be read as a
 * fraction of what the database can commit at all.
 *
 *   PostgreSQL  pgbench, in a scratch database of its own (dropped after):
 *               one single-row UPDATE per transaction, 1 and 8 clients;
 *               one UPDATE of 100 adjacent rows per transaction, no indexed
 *               column changed, so a HOT update (pgbench_accounts filled to
 *               50 %, so that a page has room for new versions of all its
 *               rows; the share of HOT updates is logged), 1 and 8 clients; and
 *               a bare claim-100 / complete-100 cycle on a minimal queue
 *               table whose status is indexed (so not HOT), each statement
 *               its own transaction, 1 and 2 clients
 *   SQLite      better-sqlite3 from Node, WAL, synchronous = NORMAL (as
 *               Docket and plainjob open it), one single-row UPDATE per
 *               transaction
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { findPgbench, log, pgUrl, settings } from '../lib/context.js'
import type { Results } from '../lib/results.js'
import { num } from '../lib/stats.js'

const SCRATCH_DB = 'docket_bench_pgbench'
const ACCOUNTS = 100_000 // pgbench scale 1
/** Waiting jobs in the bare queue table before each cycle run: more than any run here gets through. */
const CYCLE_ROWS = 1_000_000

/**
 * The least a queue's claim and completion can cost on PostgreSQL: the
 * status is in the claim index's predicate, so every state change writes
 * new index entries (no HOT), as a real queue's does. Nothing else: no
 * attempts, no events, no payload beyond '{}'.
 */
const CYCLE_TABLE = `
  CREATE TABLE bench_queue (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status smallint NOT NULL DEFAULT 0,
    run_at timestamptz NOT NULL DEFAULT now(),
    locked_at timestamptz,
    payload jsonb NOT NULL DEFAULT '{}'
  );
  CREATE INDEX bench_queue_ready ON bench_queue (run_at, id) WHERE status = 0;`
const CYCLE_SCRIPT =
  // One line each: pgbench ends a command at its line's end, and \\gset hands the ids to the next one.
  `WITH c AS (UPDATE bench_queue SET status = 1, locked_at = now() WHERE id IN (SELECT id FROM bench_queue WHERE status = 0 AND run_at <= now() ORDER BY run_at, id LIMIT 100 FOR UPDATE SKIP LOCKED) RETURNING id) SELECT coalesce(array_agg(id), '{}')::text AS ids FROM c \\gset\n` +
  `UPDATE bench_queue SET status = 2 WHERE id = ANY (:ids::bigint[]);\n`

/** A table's update counters, to tell how many of a run's updates were HOT. */
async function updates(url: string, table: string): Promise<{ all: number; hot: number }> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ all: string; hot: string }>(
      'SELECT n_tup_upd::text AS all, n_tup_hot_upd::text AS hot FROM pg_stat_user_tables WHERE relname = $1',
      [table],
    )
    return { all: Number(rows[0]?.all ?? 0), hot: Number(rows[0]?.hot ?? 0) }
  } finally {
    await client.end()
  }
}

const hotShare = (a: { all: number; hot: number }, b: { all: number; hot: number }) =>
  b.all > a.all ? `${Math.round((100 * (b.hot - a.hot)) / (b.all - a.all))} %` : 'none'

async function admin(sql: string, url = pgUrl): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const result = await client.query<{ n?: number }>(sql)
    return Number((Array.isArray(result) ? result.at(-1) : result)?.rows[0]?.n ?? 0)
  } finally {
    await client.end()
  }
}

/** Jobs per second of the claim/complete cycle: the jobs really completed, over the run's time. */
async function cycleRate(pgbench: string, url: string, script: string, clients: number): Promise<number> {
  await admin(
    `TRUNCATE bench_queue; INSERT INTO bench_queue (run_at) SELECT now() - interval '1 hour' FROM generate_series(1, ${CYCLE_ROWS})`,
    url,
  )
  await admin('VACUUM ANALYZE bench_queue', url) // not in the same call: VACUUM refuses a transaction block
  const before = await updates(url, 'bench_queue')
  const start = performance.now()
  pgbenchTps(pgbench, url, script, clients)
  const seconds = (performance.now() - start) / 1000
  const after = await updates(url, 'bench_queue')
  const done = await admin('SELECT count(*)::int AS n FROM bench_queue WHERE status = 2', url)
  if (done >= CYCLE_ROWS) log(`  the claim/complete cycle ran out of jobs: ${num(done)} is a lower bound`)
  log(`    (${hotShare(before, after)} of the cycle's updates HOT)`)
  return done / seconds
}

function pgbenchTps(pgbench: string, url: string, script: string, clients: number): number {
  const out = execFileSync(
    pgbench,
    [
      '-n',
      '-M',
      'prepared',
      '-f',
      script,
      '-c',
      String(clients),
      '-j',
      String(Math.min(clients, 2)),
      '-T',
      String(settings.limitSeconds),
      url,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const tps = out.match(/tps = ([\d.]+) \(without initial connection time\)/)?.[1]
  if (!tps) throw new Error(`could not read pgbench's output:\n${out}`)
  return Number(tps)
}

async function postgresLimit(results: Results, tmpDir: string): Promise<void> {
  const pgbench = findPgbench()
  if (!pgbench) {
    results.notes.push('pgbench not found: the PostgreSQL limit was not measured.')
    log('  pgbench not found; skipped')
    return
  }
  const url = new URL(pgUrl)
  url.pathname = `/${SCRATCH_DB}`
  const script = join(tmpDir, 'single-row-update.sql')
  writeFileSync(
    script,
    `\\set aid random(1, ${ACCOUNTS})\nUPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;\n`,
  )
  const hot = join(tmpDir, 'hot-100-row-update.sql')
  writeFileSync(
    hot,
    `\\set aid random(1, ${ACCOUNTS - 99})\nUPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid BETWEEN :aid AND :aid + 99;\n`,
  )
  const cycle = join(tmpDir, 'claim-complete-100.sql')
  writeFileSync(cycle, CYCLE_SCRIPT)
  await admin(`DROP DATABASE IF EXISTS ${SCRATCH_DB}`)
  await admin(`CREATE DATABASE ${SCRATCH_DB}`)
  const clientsLabel = (c: number) => `${c} client${c > 1 ? 's' : ''}`
  try {
    // -F 50: room on every page for a new version of each of its rows, so that a 100-row update
    // of an unindexed column is HOT (at 80 % only about 85 % of them were).
    execFileSync(pgbench, ['-i', '-q', '-s', '1', '-F', '50', url.toString()], { stdio: 'ignore' })
    await admin(CYCLE_TABLE, url.toString())
    for (let rep = 1; rep <= settings.reps; rep++) {
      for (const clients of [1, 8] as const) {
        const tps = pgbenchTps(pgbench, url.toString(), script, clients)
        results.limits[clients === 1 ? 'pg1' : 'pg8'].push(tps)
        log(`  rep ${rep} PostgreSQL, pgbench ${clientsLabel(clients)}: ${num(tps)} commits/s`)
      }
      for (const clients of [1, 8] as const) {
        const before = await updates(url.toString(), 'pgbench_accounts')
        const rows = pgbenchTps(pgbench, url.toString(), hot, clients) * 100
        const after = await updates(url.toString(), 'pgbench_accounts')
        results.limits[clients === 1 ? 'hot100x1' : 'hot100x8'].push(rows)
        log(
          `  rep ${rep} PostgreSQL, 100-row HOT update, ${clientsLabel(clients)}: ${num(rows)} rows/s ` +
            `(${hotShare(before, after)} of the updates HOT)`,
        )
      }
      for (const clients of [1, 2] as const) {
        const jobs = await cycleRate(pgbench, url.toString(), cycle, clients)
        results.limits[clients === 1 ? 'cycle100x1' : 'cycle100x2'].push(jobs)
        log(
          `  rep ${rep} PostgreSQL, bare claim-100/complete-100, ${clientsLabel(clients)}: ${num(jobs)} jobs/s`,
        )
      }
    }
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${SCRATCH_DB}`)
  }
}

function sqliteLimit(results: Results, tmpDir: string): void {
  const db = new Database(join(tmpDir, 'limit.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)')
  db.prepare(
    `INSERT INTO accounts (id, balance)
     WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${ACCOUNTS}) SELECT i, 0 FROM s`,
  ).run()
  const update = db.prepare('UPDATE accounts SET balance = balance + 1 WHERE id = ?')
  for (let rep = 1; rep <= settings.reps; rep++) {
    let commits = 0
    const start = performance.now()
    const end = start + settings.limitSeconds * 1000
    while (performance.now() < end) {
      // Each run() outside a transaction is its own transaction: one commit.
      for (let i = 0; i < 500; i++) update.run(1 + Math.floor(Math.random() * ACCOUNTS))
      commits += 500
    }
    const rate = commits / ((performance.now() - start) / 1000)
    results.limits.sqlite.push(rate)
    log(`  rep ${rep} SQLite, one connection: ${num(rate)} commits/s`)
  }
  db.close()
}

export async function runLimits(results: Results, tmpDir: string): Promise<void> {
  await postgresLimit(results, tmpDir)
  sqliteLimit(results, tmpDir)
}
