/**
 * Part 5: the physical limit, so that every queue's figure can be read as a
 * fraction of what the database can commit at all.
 *
 *   PostgreSQL  pgbench, one single-row UPDATE per transaction, 1 and 8
 *               clients, in a scratch database of its own (dropped after)
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

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
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
  await admin(`DROP DATABASE IF EXISTS ${SCRATCH_DB}`)
  await admin(`CREATE DATABASE ${SCRATCH_DB}`)
  try {
    execFileSync(pgbench, ['-i', '-q', '-s', '1', url.toString()], { stdio: 'ignore' })
    for (let rep = 1; rep <= settings.reps; rep++) {
      for (const clients of [1, 8] as const) {
        const tps = pgbenchTps(pgbench, url.toString(), script, clients)
        results.limits[clients === 1 ? 'pg1' : 'pg8'].push(tps)
        log(
          `  rep ${rep} PostgreSQL, pgbench ${clients} client${clients > 1 ? 's' : ''}: ${num(tps)} commits/s`,
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
