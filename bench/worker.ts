/**
 * Worker benchmark (not a test): `npm run bench:worker`.
 *
 *   pickup      enqueue -> handler start for single jobs arriving one at a time
 *               at an idle worker in the same process (median, p99)
 *   throughput  N queued no-op jobs drained by one and by two worker
 *               processes (child processes, concurrency 50 each)
 *
 * On SQLite (a temp file) and PostgreSQL (DOCKET_BENCH_PG_URL, else
 * postgres://postgres@127.0.0.1:5432/test, in a throwaway schema).
 */
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { Docket, Worker } from '../src/index.js'

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200)

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

async function pickup(url: string): Promise<{ median: number; p99: number }> {
  const docket = await Docket.open(url)
  await docket.createQueue({ name: 'pickup' })
  let started: (() => void) | null = null
  const worker = await new Worker(docket, {
    queues: ['pickup'],
    concurrency: 1,
    maintenance: false,
    handlers: () => {
      started?.()
    },
  }).start()
  const samples: number[] = []
  for (let i = 0; i < SAMPLES + 10; i++) {
    await new Promise((r) => setTimeout(r, 5))
    const t0 = performance.now()
    const begun = new Promise<void>((resolve) => {
      started = resolve
    })
    await docket.add('pickup', 'ping', { i })
    await begun
    if (i >= 10) samples.push(performance.now() - t0) // the first few warm up connections and plans
  }
  await worker.close()
  await docket.close()
  samples.sort((a, b) => a - b)
  return { median: percentile(samples, 0.5), p99: percentile(samples, 0.99) }
}

async function throughput(url: string, processes: number): Promise<number> {
  const docket = await Docket.open(url)
  const queue = `tp${processes}`
  await docket.createQueue({ name: queue })
  for (let i = 0; i < JOBS; i += 5000) {
    await docket.addMany(Array.from({ length: Math.min(5000, JOBS - i) }, () => ({ queue, type: 'noop' })))
  }
  const children = Array.from({ length: processes }, () =>
    fork(join(import.meta.dirname, 'worker-process.ts'), [url, queue, '50'], {
      execArgv: ['--import', 'tsx'],
    }),
  )
  await Promise.all(children.map((c) => new Promise((r) => c.once('message', r))))
  const t0 = performance.now()
  for (const c of children) c.send('go')
  for (;;) {
    const counts = (await docket.countJobs(queue))[queue]!
    if (counts.completed === JOBS) break
    await new Promise((r) => setTimeout(r, 20))
  }
  const seconds = (performance.now() - t0) / 1000
  await Promise.all(
    children.map(
      (c) =>
        new Promise((r) => {
          c.once('exit', r)
          c.kill('SIGTERM')
        }),
    ),
  )
  await docket.close()
  return JOBS / seconds
}

async function bench(driver: string, url: string) {
  const p = await pickup(url)
  console.log(
    `${driver.padEnd(8)} pickup latency   median ${p.median.toFixed(2)} ms   p99 ${p.p99.toFixed(2)} ms`,
  )
  for (const n of [1, 2]) {
    const rate = await throughput(url, n)
    console.log(
      `${driver.padEnd(8)} throughput       ${n} process${n > 1 ? 'es' : '  '}  ${rate.toFixed(0).padStart(6)} jobs/s  (${JOBS} no-op jobs)`,
    )
  }
}

console.log(
  `Docket worker benchmark: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
)
const dir = mkdtempSync(join(tmpdir(), 'docket-bench-'))
try {
  await bench('sqlite', join(dir, 'bench.db'))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
const base = process.env.DOCKET_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = `docket_bench_${process.pid}`
try {
  await bench('postgres', `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`)
} finally {
  const admin = new pg.Client({ connectionString: base })
  await admin.connect()
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await admin.end()
}
