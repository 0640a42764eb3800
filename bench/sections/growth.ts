/**
 * Part 6: does Docket's claim slow down as finished jobs pile up (retention
 * off)? Claim latency with 10,000 and then with 1,000,000 finished jobs in
 * the same queue, on both drivers.
 *
 * The finished rows are copies of one job that really went through Docket
 * (add, claim, complete), inserted with one INSERT ... SELECT straight into
 * Docket's `jobs` table for speed; only id and times differ. The event log is
 * not filled alongside. On PostgreSQL the table is then VACUUM ANALYZEd, as
 * autovacuum would have done by the time a million jobs had finished.
 *
 * A measurement: add `growthClaims` waiting jobs, then claim them one at a
 * time (timing each `claim()` call) and complete each.
 */
import Database from 'better-sqlite3'
import pg from 'pg'
import { Docket } from '../../src/index.js'
import { log, pgUrl, settings } from '../lib/context.js'
import type { GrowthResult, Results } from '../lib/results.js'
import { median, num, percentile } from '../lib/stats.js'
import { docketUrl } from '../systems/docket.js'
import { dropSchema } from '../systems/storage.js'

const QUEUE = 'growth'
const SCHEMA = 'bench_docket_growth'
const TIMES = new Set(['created_at', 'started_at', 'finished_at', 'run_at', 'locked_at'])

/** Adds `count` finished jobs, numbered from `from`, as copies of the template row. */
type Fill = (from: number, count: number) => Promise<void>

function sqliteFill(path: string, templateId: string): Fill {
  return async (from, count) => {
    const db = new Database(path)
    db.pragma('busy_timeout = 10000')
    const cols = (db.prepare('PRAGMA table_info(jobs)').all() as { name: string }[]).map((c) => c.name)
    const value = (c: string) =>
      c === 'id'
        ? `printf('00000000-0000-7000-8000-%012x', s.i)`
        : TIMES.has(c)
          ? `CASE WHEN t.${c} IS NULL THEN NULL ELSE t.${c} - (${from + count} - s.i) * 1000 END`
          : `t.${c}`
    db.prepare(
      `INSERT INTO jobs (${cols.join(', ')})
       WITH RECURSIVE s(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM s WHERE i < ${from + count - 1})
       SELECT ${cols.map(value).join(', ')} FROM s, jobs t WHERE t.id = ?`,
    ).run(templateId)
    db.close()
  }
}

function postgresFill(schema: string, templateId: string): Fill {
  return async (from, count) => {
    const client = new pg.Client({ connectionString: pgUrl })
    await client.connect()
    try {
      const { rows } = await client.query<{ name: string }>(
        `SELECT column_name AS name FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'jobs' ORDER BY ordinal_position`,
        [schema],
      )
      const cols = rows.map((r) => r.name)
      const value = (c: string) =>
        c === 'id'
          ? `('00000000-0000-7000-8000-' || lpad(to_hex(s.i), 12, '0'))::uuid`
          : TIMES.has(c)
            ? `t.${c} - (${from + count} - s.i) * interval '1 second'`
            : `t.${c}`
      await client.query(
        `INSERT INTO ${schema}.jobs (${cols.join(', ')})
         SELECT ${cols.map(value).join(', ')}
         FROM generate_series(${from}, ${from + count - 1}) AS s(i), ${schema}.jobs t WHERE t.id = $1`,
        [templateId],
      )
      await client.query(`VACUUM ANALYZE ${schema}.jobs`)
    } finally {
      await client.end()
    }
  }
}

async function timeClaims(docket: Docket): Promise<{ median: number; p99: number }> {
  const n = settings.growthClaims
  await docket.addMany(Array.from({ length: n + 10 }, () => ({ queue: QUEUE, type: 'noop', payload: {} })))
  const samples: number[] = []
  for (let i = 0; i < n + 10; i++) {
    const t0 = performance.now()
    const [job] = await docket.workers.claim({ workerId: 'growth-bench', queues: [QUEUE], limit: 1 })
    if (i >= 10) samples.push(performance.now() - t0) // the first ten warm up statements and caches
    await docket.workers.complete(job!, null)
  }
  return { median: median(samples), p99: percentile(samples, 0.99) }
}

async function growthFor(driver: 'sqlite' | 'postgres', url: string, fill: (templateId: string) => Fill) {
  const docket = await Docket.open(url)
  const out: GrowthResult[] = []
  try {
    await docket.createQueue({ name: QUEUE })
    const template = await docket.add(QUEUE, 'noop', {})
    await docket.workers.complete(
      (await docket.workers.claim({ workerId: 'growth-bench', queues: [QUEUE] }))[0]!,
      null,
    )
    const fillRows = fill(template.id)
    let rows = 1
    for (const target of [settings.growthSmall, settings.growthLarge]) {
      const start = performance.now()
      await fillRows(rows, target - rows)
      const fillSeconds = (performance.now() - start) / 1000
      rows = target
      log(`  ${driver}: ${num(target)} finished jobs in the table (inserted in ${num(fillSeconds)} s)`)
      const result: GrowthResult = { finishedRows: target, medians: [], p99s: [], fillSeconds }
      for (let rep = 1; rep <= settings.reps; rep++) {
        const r = await timeClaims(docket)
        result.medians.push(r.median)
        result.p99s.push(r.p99)
        log(`    rep ${rep}: claim median ${num(r.median)} ms, p99 ${num(r.p99)} ms`)
      }
      out.push(result)
    }
  } finally {
    await docket.close()
  }
  return out
}

export async function runGrowth(results: Results, tmpDir: string): Promise<void> {
  const path = `${tmpDir}/growth.db`
  results.growth.sqlite = await growthFor('sqlite', path, (id) => sqliteFill(path, id))
  await dropSchema(pgUrl, SCHEMA)
  try {
    const url = docketUrl({ kind: 'docket-postgres', target: pgUrl, namespace: SCHEMA })
    results.growth.postgres = await growthFor('postgres', url, (id) => postgresFill(SCHEMA, id))
  } finally {
    await dropSchema(pgUrl, SCHEMA)
  }
}
