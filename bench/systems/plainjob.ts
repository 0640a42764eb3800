/**
 * plainjob (SQLite, better-sqlite3) through its public API: defineQueue,
 * addMany / add, countJobs, defineWorker. A plainjob worker runs one job at a
 * time and polls (no wake-up); N jobs in flight means N workers in the
 * process, each with its own loop, all on the process's one connection, as
 * its README suggests for more throughput (it then forks processes). The
 * best-settings row is its README's multi-process setup: one worker per process.
 */
import Database from 'better-sqlite3'
import { importPeer } from '../lib/peers.js'
import { removeSqlite } from './storage.js'
import {
  type Consumer,
  inFlight,
  type Producer,
  type QueueSystem,
  quietLogger,
  type SystemConfig,
  type WorkerSettings,
} from './types.js'

const TYPE = 'noop'

interface Queue {
  add(type: string, data: unknown): { id: number }
  addMany(type: string, data: unknown[]): { ids: number[] }
  countJobs(options?: { type?: string; status?: number }): number
  close(): void
}
interface Worker {
  start(): Promise<void>
  stop(): Promise<void>
}
interface Plainjob {
  JobStatus: { Pending: number; Processing: number }
  better(db: Database.Database): unknown
  defineQueue(options: { connection: unknown; logger: typeof quietLogger }): Queue
  defineWorker(
    type: string,
    processor: () => Promise<void>,
    options: { queue: Queue; pollIntervall: number; logger: typeof quietLogger },
  ): Worker
}

export function plainjobSystem(config: SystemConfig): QueueSystem {
  const open = async () => {
    const pj = await importPeer<Plainjob>('plainjob')
    const queue = pj.defineQueue({ connection: pj.better(new Database(config.target)), logger: quietLogger })
    return { pj, queue }
  }
  return {
    id: config.id,
    async reset() {
      removeSqlite(config.target)
      ;(await open()).queue.close()
    },
    async producer(): Promise<Producer> {
      const { pj, queue } = await open()
      return {
        async addBulk(n) {
          queue.addMany(
            TYPE,
            Array.from({ length: n }, () => ({})),
          )
        },
        async addOne() {
          queue.add(TYPE, {})
        },
        async remaining() {
          return (
            queue.countJobs({ status: pj.JobStatus.Pending }) +
            queue.countJobs({ status: pj.JobStatus.Processing })
          )
        },
        async close() {
          queue.close()
        },
      }
    },
    async consumer(settings: WorkerSettings, onJob: () => void): Promise<Consumer> {
      const { pj, queue } = await open()
      const workers = Array.from({ length: inFlight(config, settings) }, () =>
        pj.defineWorker(
          TYPE,
          async () => {
            onJob()
          },
          { queue, pollIntervall: settings.pollMs, logger: quietLogger },
        ),
      )
      let loops: Promise<void>[] = []
      return {
        async start() {
          loops = workers.map((w) => w.start())
        },
        async stop() {
          await Promise.all(workers.map((w) => w.stop()))
          // start() settles when a loop has really finished; only then may the connection close.
          await Promise.allSettled(loops)
          queue.close()
        },
      }
    },
  }
}
