/**
 * Parts 1, 2 and 4: bulk add of N jobs, then N queued no-op jobs processed by
 * one and by two worker processes, the peak RSS of a worker process, and what
 * each job cost: worker CPU, database-server CPU and (PostgreSQL) WAL bytes.
 *
 * Each run starts from empty storage. The parent adds the jobs (timed: the
 * bulk add), starts the worker processes and waits until they are ready
 * (modules loaded, connections open), then says 'go' and times until the
 * system's own count of unfinished jobs reaches zero. CPU and WAL are read
 * just before 'go' and just after that. Repetitions go round all rows in
 * turn, so that a noisy moment does not hit one system only.
 */
import pg from 'pg'
import { Child } from '../lib/children.js'
import { log, pgUrl, settings } from '../lib/context.js'
import { processCpuUs, serverCpuUs, walBytesSince, walLsn } from '../lib/cost.js'
import type { PerJob, Results } from '../lib/results.js'
import { num } from '../lib/stats.js'
import { backendOf, createSystem, SYSTEM_LABELS } from '../systems/index.js'
import type { SystemConfig } from '../systems/types.js'

/**
 * A run that has not drained its queue by then is cut short, and its rate is
 * what it finished in that time (pg-boss at 10 jobs in flight does 20 jobs/s
 * per process: 10,000 jobs would take over 8 minutes).
 */
const RUN_CAP_MS = 30_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Run {
  bulkRate: number
  rate: number
  /** Cut short at RUN_CAP_MS: the rate is over the jobs finished by then. */
  capped: boolean
  rssKb: (number | null)[]
  perJob: PerJob
}

/** Reads the costs now; `end()` reads them again and divides the difference by the jobs done. */
async function meter(config: SystemConfig, children: Child[], wal: pg.Client) {
  const backend = backendOf(config.id)
  const server = backend === 'postgres' ? 'postgres' : backend === 'redis' ? 'redis-server' : null
  const workers = () => children.map((c) => processCpuUs(c.process.pid!) ?? 0).reduce((a, b) => a + b, 0)
  const lsn = backend === 'postgres' ? await walLsn(wal) : null
  const server0 = server ? serverCpuUs(server) : null
  const workers0 = workers()
  return async (jobs: number): Promise<PerJob> => {
    const workers1 = workers()
    const server1 = server ? serverCpuUs(server) : null
    const walBytes = lsn ? await walBytesSince(wal, lsn) : null
    const per = (v: number | null) => (v === null || jobs === 0 ? null : v / jobs)
    return {
      workerCpuUs: per(workers1 - workers0),
      serverCpuUs: per(server0 !== null && server1 !== null ? server1 - server0 : null),
      walBytes: per(walBytes),
    }
  }
}

async function processRun(config: SystemConfig, processes: number, wal: pg.Client): Promise<Run> {
  const n = settings.jobs
  const workerSettings = { concurrency: settings.concurrency, pollMs: settings.pollMs }
  const system = await createSystem(config)
  await system.reset(workerSettings)
  const producer = await system.producer()
  const children: Child[] = []
  try {
    const a = performance.now()
    await producer.addBulk(n)
    const bulkRate = n / ((performance.now() - a) / 1000)

    for (let i = 0; i < processes; i++) {
      children.push(new Child({ mode: 'worker', system: config, settings: workerSettings }))
    }
    await Promise.all(children.map((c) => c.next('ready', 60_000)))
    const measured = await meter(config, children, wal)
    const t0 = performance.now()
    for (const c of children) c.send('go')
    const overdue = () => {
      const failed = children.find((c) => c.failure)
      if (failed) throw failed.failure
      return performance.now() - t0 > RUN_CAP_MS
    }
    // Cheap first (the workers' own counts), then the system's durable count, so polling does not load the database.
    let capped = false
    while (children.reduce((sum, c) => sum + c.processed, 0) < n) {
      capped = overdue()
      if (capped) break
      await sleep(10)
    }
    let left = await producer.remaining()
    while (left > 0 && !capped) {
      capped = overdue()
      if (capped) break
      await sleep(10)
      left = await producer.remaining()
    }
    const rate = (n - left) / ((performance.now() - t0) / 1000)
    const perJob = await measured(n - left)
    const rssKb = await Promise.all(children.map((c) => c.stop()))
    return { bulkRate, rate, capped, rssKb, perJob }
  } finally {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL')
    await producer.close()
  }
}

const costLine = (p: PerJob) =>
  [
    p.workerCpuUs === null ? null : `worker CPU ${num(p.workerCpuUs)} µs`,
    p.serverCpuUs === null ? null : `server CPU ${num(p.serverCpuUs)} µs`,
    p.walBytes === null ? null : `WAL ${num(p.walBytes)} B`,
  ]
    .filter(Boolean)
    .join(', ')

export async function runThroughput(configs: SystemConfig[], results: Results): Promise<void> {
  const wal = new pg.Client({ connectionString: pgUrl })
  await wal.connect()
  try {
    for (let rep = 1; rep <= settings.reps; rep++) {
      for (const config of configs) {
        for (const processes of [1, 2]) {
          const label = `${SYSTEM_LABELS[config.id]}, ${processes} process${processes > 1 ? 'es' : ''}`
          try {
            const run = await processRun(config, processes, wal)
            record(results, config, processes, run)
            const rss = run.rssKb.filter((k): k is number => k !== null).map((k) => k / 1024)
            log(
              `  rep ${rep}/${settings.reps} ${label}: add ${num(run.bulkRate)} jobs/s, ` +
                `process ${num(run.rate)} jobs/s${run.capped ? ` (cut short at ${RUN_CAP_MS / 1000} s)` : ''}, ` +
                `peak RSS ${rss.map((m) => num(m)).join(' + ')} MB; per job: ${costLine(run.perJob)}`,
            )
          } catch (error) {
            const message = `${label}, repetition ${rep}: ${(error as Error).message.split('\n')[0]}`
            results.notes.push(`Failed run: ${message}`)
            log(`  FAILED ${message}`)
          }
        }
      }
    }
  } finally {
    await wal.end()
  }
}

function record(results: Results, config: SystemConfig, processes: number, run: Run): void {
  const id = config.id
  const key = processes === 1 ? 'one' : 'two'
  results.bulkAdd[id] = [...(results.bulkAdd[id] ?? []), run.bulkRate]
  const tp = results.throughput[id] ?? { one: [], two: [] }
  results.throughput[id] = tp
  tp[key].push(run.rate)
  const cost = results.perJob[id] ?? { one: [], two: [] }
  results.perJob[id] = cost
  cost[key].push(run.perJob)
  const rss = run.rssKb.filter((k): k is number => k !== null).map((k) => k / 1024)
  if (processes === 1) results.memoryMb[id] = [...(results.memoryMb[id] ?? []), ...rss]
  if (run.capped) results.capped[id] = true
}
