/**
 * BullMQ (Redis) through its public API: Queue.addBulk / add, a Worker with
 * `concurrency`, getJobCounts for what is left, obliterate to reset. Jobs
 * keep BullMQ's defaults (completed jobs are kept, as Docket keeps them).
 */
import { importPeer } from '../lib/peers.js'
import {
  type Consumer,
  inFlight,
  type Producer,
  type QueueSystem,
  type SystemConfig,
  type WorkerSettings,
} from './types.js'

const QUEUE = 'bench'

interface Connection {
  host: string
  port: number
  maxRetriesPerRequest: null
}
interface Queue {
  addBulk(jobs: { name: string; data: object }[]): Promise<unknown>
  add(name: string, data: object): Promise<unknown>
  getJobCounts(...types: string[]): Promise<Record<string, number>>
  obliterate(options: { force: boolean }): Promise<void>
  close(): Promise<void>
}
interface Worker {
  run(): Promise<void>
  close(): Promise<void>
  on(event: 'error', listener: (error: unknown) => void): void
}
interface BullMQ {
  Queue: new (name: string, options: { connection: Connection; prefix: string }) => Queue
  Worker: new (
    name: string,
    processor: () => Promise<void>,
    options: { connection: Connection; prefix: string; concurrency: number; autorun: boolean },
  ) => Worker
}

export function bullmqSystem(config: SystemConfig): QueueSystem {
  const [host, port] = config.target.split(':') as [string, string]
  const connection: Connection = { host, port: Number(port), maxRetriesPerRequest: null }
  const prefix = config.namespace
  const queue = async () => new (await importPeer<BullMQ>('bullmq')).Queue(QUEUE, { connection, prefix })
  return {
    id: config.id,
    async reset() {
      const q = await queue()
      await q.obliterate({ force: true })
      await q.close()
    },
    async producer(): Promise<Producer> {
      const q = await queue()
      return {
        async addBulk(n) {
          await q.addBulk(Array.from({ length: n }, () => ({ name: 'noop', data: {} })))
        },
        async addOne() {
          await q.add('noop', {})
        },
        async remaining() {
          const counts = await q.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused')
          return Object.values(counts).reduce((a, b) => a + b, 0)
        },
        close: () => q.close(),
      }
    },
    async consumer(settings: WorkerSettings, onJob: () => void): Promise<Consumer> {
      const { Worker } = await importPeer<BullMQ>('bullmq')
      const worker = new Worker(
        QUEUE,
        async () => {
          onJob()
        },
        { connection, prefix, concurrency: inFlight(config, settings), autorun: false },
      )
      worker.on('error', (error) => console.error('[bullmq]', error))
      return {
        async start() {
          void worker.run()
        },
        stop: () => worker.close(),
      }
    },
  }
}
