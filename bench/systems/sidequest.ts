/**
 * sidequest through its public API, on its PostgreSQL backend: a Job class
 * (bench/peers/sidequest.jobs.js, manual job resolution), Sidequest.start in
 * the worker process, Sidequest.build(...).enqueue() to add, and
 * Sidequest.job.count() for what is left. sidequest has no bulk add: the
 * bulk-add figure is enqueue() calls, 10 at a time.
 *
 * The engine runs in the measured process (`fork: false`; its default forks
 * a child process, whose memory and CPU the bench would not see); at 10 in
 * flight jobs run in its default worker-thread pool, and the best-settings
 * row runs 500 at once with `runner: 'inline'`. A job tells the worker's
 * main thread it ran through a BroadcastChannel (it may be in a thread).
 */

import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PEERS_DIR } from '../lib/peers.js'
import { dropSchema } from './storage.js'
import {
  type Consumer,
  inFlight,
  type Producer,
  type QueueSystem,
  type SystemConfig,
  type WorkerSettings,
} from './types.js'

const QUEUE = 'bench'

interface JobCounts {
  waiting: number
  claimed: number
  running: number
}
interface Sidequest {
  configure(config: object): Promise<unknown>
  start(config: object): Promise<void>
  stop(): Promise<void>
  build(job: unknown): { queue(name: string): { enqueue(): Promise<unknown> } }
  job: { count(): Promise<JobCounts> }
  queue: { create(queue: { name: string; concurrency: number }): Promise<unknown> }
}
interface Loaded {
  Sidequest: Sidequest
  NoopJob: unknown
  jobsFilePath: string
}

// Imported as an ES module by URL: importPeer resolves the CommonJS build, a second Sidequest singleton.
const load = () => import(pathToFileURL(join(PEERS_DIR, 'sidequest.js')).href) as Promise<Loaded>

/** sidequest is one engine per process: whoever configures it first (worker or producer) owns it. */
let owner: 'worker' | 'producer' | null = null

export function sidequestSystem(config: SystemConfig): QueueSystem {
  const { target, namespace: schema } = config
  // The queue, with its concurrency, is created by reset(): workers that all create it at once collide.
  const engineConfig = (jobsFilePath: string, settings: WorkerSettings | null) => {
    const n = settings ? inFlight(config, settings) : 1
    return {
      backend: {
        driver: '@sidequest/postgres-backend',
        config: { connection: target, searchPath: [schema] },
      },
      queues: [{ name: QUEUE, concurrency: n }],
      maxConcurrentJobs: n,
      fork: false,
      runner: config.tuning.runner ?? 'thread',
      gracefulShutdown: false,
      manualJobResolution: true,
      jobsFilePath,
      logger: { level: 'error' },
      dashboard: { enabled: false },
    }
  }
  const configure = async (settings: WorkerSettings | null = null) => {
    const sq = await load()
    if (owner === null) {
      await sq.Sidequest.configure(engineConfig(sq.jobsFilePath, settings))
      owner = 'producer'
    }
    return sq
  }
  return {
    id: config.id,
    async reset(settings) {
      await dropSchema(target, schema)
      const { Sidequest } = await configure(settings) // migrates
      await Sidequest.queue.create({ name: QUEUE, concurrency: inFlight(config, settings) })
      await Sidequest.stop()
      owner = null
    },
    async producer(): Promise<Producer> {
      const { Sidequest, NoopJob } = await configure()
      const enqueue = () => Sidequest.build(NoopJob).queue(QUEUE).enqueue()
      return {
        async addBulk(n) {
          for (let done = 0; done < n; done += 10) {
            await Promise.all(Array.from({ length: Math.min(10, n - done) }, enqueue))
          }
        },
        async addOne() {
          await enqueue()
        },
        async remaining() {
          const c = await Sidequest.job.count()
          return c.waiting + c.claimed + c.running
        },
        async close() {
          if (owner !== 'producer') return
          await Sidequest.stop()
          owner = null
        },
      }
    },
    async consumer(settings: WorkerSettings, onJob: () => void): Promise<Consumer> {
      const { Sidequest, jobsFilePath } = await load()
      const channel = new BroadcastChannel('docket-bench-sidequest')
      channel.onmessage = () => onJob()
      // Configured (connected, migrated) now, started on 'go'; start() takes the same config.
      const workerConfig = engineConfig(jobsFilePath, settings)
      await Sidequest.configure(workerConfig)
      owner = 'worker'
      return {
        async start() {
          await Sidequest.start(workerConfig)
        },
        async stop() {
          await Sidequest.stop()
          owner = null
          channel.close()
        },
      }
    },
  }
}
