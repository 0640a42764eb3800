/**
 * Store micro-benchmark: how fast the storage layer itself goes, without a
 * worker runtime on top. Not a test; run with `npm run bench:store`.
 *
 *   add-many        addMany in chunks of 1,000
 *   claim+complete  claim 100 at a time, completeMany the batch
 *   single          add one, claim one, complete one, in sequence (latency-bound)
 *
 * PostgreSQL: DOCKET_BENCH_PG_URL, else postgres://postgres@127.0.0.1:5432/test,
 * in a throwaway schema. SQLite: a temp file.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { Docket } from '../src/index.js'

const N_BULK = Number(process.env.BENCH_JOBS ?? 20_000)
const N_SINGLE = Number(process.env.BENCH_SINGLE ?? 1_000)

interface Result {
  driver: string
  bench: string
  jobs: number
  seconds: number
}

async function run(driver: string, url: string): Promise<Result[]> {
  const docket = await Docket.open(url)
  const results: Result[] = []
  const time = async (bench: string, jobs: number, fn: () => Promise<void>) => {
    const start = process.hrtime.bigint()
    await fn()
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    results.push({ driver, bench, jobs, seconds })
    console.log(
      `${driver.padEnd(8)} ${bench.padEnd(15)} ${String(jobs).padStart(6)} jobs  ${(jobs / seconds).toFixed(0).padStart(7)} jobs/s`,
    )
  }
  await docket.createQueue({ name: 'bench' })
  await time('add-many', N_BULK, async () => {
    for (let i = 0; i < N_BULK; i += 1000) {
      await docket.addMany(
        Array.from({ length: Math.min(1000, N_BULK - i) }, (_, k) => ({
          queue: 'bench',
          type: 'noop',
          payload: { i: i + k },
        })),
      )
    }
  })
  await time('claim+complete', N_BULK, async () => {
    for (;;) {
      const jobs = await docket.workers.claim({ workerId: 'bench', queues: ['bench'], limit: 100 })
      if (jobs.length === 0) break
      await docket.workers.completeMany(jobs.map((job) => ({ job, result: null })))
    }
  })
  await time('single', N_SINGLE, async () => {
    for (let i = 0; i < N_SINGLE; i++) {
      await docket.add('bench', 'noop', { i })
      const [job] = await docket.workers.claim({ workerId: 'bench', queues: ['bench'], limit: 1 })
      await docket.workers.complete(job!, null)
    }
  })
  await docket.close()
  return results
}

async function main() {
  console.log(
    `Docket store benchmark: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  )
  const dir = mkdtempSync(join(tmpdir(), 'docket-bench-'))
  try {
    await run('sqlite', join(dir, 'bench.db'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const base = process.env.DOCKET_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const schema = `docket_bench_${process.pid}`
  const admin = new pg.Client({ connectionString: base })
  await admin.connect()
  try {
    await run('postgres', `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`)
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
  }
}

await main()
