/**
 * Parts 1, 2 and 4: bulk add of N jobs, then N queued no-op jobs processed by
 * one and by two worker processes, and the peak RSS of a worker process.
 *
 * Each run starts from empty storage. The parent adds the jobs (timed: the
 * bulk add), starts the worker processes and waits until they are ready
 * (modules loaded, connections open), then says 'go' and times until the
 * system's own count of unfinished jobs reaches zero. Repetitions go round
 * all systems in turn, so that a noisy moment does not hit one system only.
 */
import { Child } from '../lib/children.js'
import { log, settings } from '../lib/context.js'
import type { Results } from '../lib/results.js'
import { num } from '../lib/stats.js'
import { createSystem, SYSTEM_LABELS } from '../systems/index.js'
import type { SystemConfig } from '../systems/types.js'

/**
 * A run that has not drained its queue by then is cut short, and its rate is
 * what it finished in that time (pg-boss at 10 jobs in flight does 20 jobs/s
 * per process: 20,000 jobs would take 17 minutes).
 */
const RUN_CAP_MS = 30_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Run {
  bulkRate: number
  rate: number
  /** Cut short at RUN_CAP_MS: the rate is over the jobs finished by then. */
  capped: boolean
  rssKb: (number | null)[]
}

async function processRun(config: SystemConfig, processes: number): Promise<Run> {
  const n = settings.jobs
  const system = await createSystem(config)
  await system.reset()
  const producer = await system.producer()
  const children: Child[] = []
  try {
    const a = performance.now()
    await producer.addBulk(n)
    const bulkRate = n / ((performance.now() - a) / 1000)

    const workerSettings = { concurrency: settings.concurrency, pollMs: settings.pollMs }
    for (let i = 0; i < processes; i++) {
      children.push(new Child({ mode: 'worker', system: config, settings: workerSettings }))
    }
    await Promise.all(children.map((c) => c.next('ready', 60_000)))
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
    const rssKb = await Promise.all(children.map((c) => c.stop()))
    return { bulkRate, rate, capped, rssKb }
  } finally {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL')
    await producer.close()
  }
}

export async function runThroughput(configs: SystemConfig[], results: Results): Promise<void> {
  for (let rep = 1; rep <= settings.reps; rep++) {
    for (const config of configs) {
      for (const processes of [1, 2]) {
        const label = `${SYSTEM_LABELS[config.id]}, ${processes} process${processes > 1 ? 'es' : ''}`
        try {
          const run = await processRun(config, processes)
          results.bulkAdd[config.id] = [...(results.bulkAdd[config.id] ?? []), run.bulkRate]
          const tp = results.throughput[config.id] ?? { one: [], two: [] }
          results.throughput[config.id] = tp
          ;(processes === 1 ? tp.one : tp.two).push(run.rate)
          const rss = run.rssKb.filter((k): k is number => k !== null).map((k) => k / 1024)
          if (processes === 1) results.memoryMb[config.id] = [...(results.memoryMb[config.id] ?? []), ...rss]
          if (run.capped) results.capped[config.id] = true
          log(
            `  rep ${rep}/${settings.reps} ${label}: add ${num(run.bulkRate)} jobs/s, ` +
              `process ${num(run.rate)} jobs/s${run.capped ? ` (cut short at ${RUN_CAP_MS / 1000} s)` : ''}, ` +
              `peak RSS ${rss.map((m) => num(m)).join(' + ')} MB`,
          )
        } catch (error) {
          const message = `${label}, repetition ${rep}: ${(error as Error).message.split('\n')[0]}`
          results.notes.push(`Failed run: ${message}`)
          log(`  FAILED ${message}`)
        }
      }
    }
  }
}
