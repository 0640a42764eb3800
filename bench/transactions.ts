/**
 * Adding a job inside the caller's transaction vs on Docket's own pool, on
 * PostgreSQL: the bound is "no slower by more than one round trip".
 * Sequential single adds (latency, not throughput), medians and p90s of:
 *
 *   own pool        docket.add(input)                              (one transaction of Docket's)
 *   your client     BEGIN; docket.add(input, { client }); COMMIT   (the whole transaction, yours)
 *   add in yours    only the add inside an open transaction of yours
 *   add_job         BEGIN; SELECT add_job(…); COMMIT
 *   round trip      SELECT $1 on the same client (what "one round trip" costs here)
 *
 * Not a test; run with `npm run bench:transactions`. DOCKET_BENCH_PG_URL, else
 * postgres://postgres@127.0.0.1:5432/test, in a throwaway schema. BENCH_N sets
 * the adds per row (default 2,000).
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { Docket } from '../src/index.js'

const N = Number(process.env.BENCH_N ?? 2_000)
const base = process.env.DOCKET_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!
  return { median: at(0.5), p90: at(0.9) }
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(100, n); i++) await fn() // warm-up: plans, connections
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn()
    out.push(performance.now() - t)
  }
  return out
}

async function main() {
  const schema = `docket_bench_tx_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: base })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  const docket = await Docket.open(`${base}${base.includes('?') ? '&' : '?'}schema=${schema}`)
  const pool = new pg.Pool({ connectionString: base, max: 2 })
  const client = await pool.connect()
  try {
    await docket.createQueue({ name: 'bench' })
    const input = { queue: 'bench', type: 'noop', payload: { n: 1 } }
    const rows: [string, number[]][] = []
    rows.push(['own pool: docket.add', await timed(N, () => docket.add(input))])
    rows.push([
      'your client: BEGIN + add + COMMIT',
      await timed(N, async () => {
        await client.query('BEGIN')
        await docket.add(input, { client })
        await client.query('COMMIT')
      }),
    ])
    await client.query('BEGIN')
    rows.push(['only the add, in your open transaction', await timed(N, () => docket.add(input, { client }))])
    await client.query('COMMIT')
    rows.push([
      'add_job: BEGIN + SELECT add_job + COMMIT',
      await timed(N, async () => {
        await client.query('BEGIN')
        await client.query(`SELECT ${schema}.add_job('bench', 'noop', '{"n":1}')`)
        await client.query('COMMIT')
      }),
    ])
    rows.push(['one round trip: SELECT $1', await timed(N, () => client.query('SELECT $1::int AS n', [1]))])
    console.log(`\nadds inside the caller's transaction, PostgreSQL, ${N} sequential adds per row (ms)\n`)
    console.log('| | median | p90 |\n| --- | ---: | ---: |')
    for (const [name, samples] of rows) {
      const { median, p90 } = summary(samples)
      console.log(`| ${name} | ${median.toFixed(2)} | ${p90.toFixed(2)} |`)
    }
  } finally {
    client.release()
    await pool.end()
    await docket.close()
    await admin.query(`DROP SCHEMA ${schema} CASCADE`)
    await admin.end()
  }
}

await main()
