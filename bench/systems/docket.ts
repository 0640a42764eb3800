/** Docket itself, on a SQLite file or on PostgreSQL, through its public library API. */
import { Docket, Worker } from '../../src/index.js'
import { dropSchema, removeSqlite } from './storage.js'
import {
  type Consumer,
  inFlight,
  type Producer,
  type QueueSystem,
  type SystemConfig,
  type WorkerSettings,
} from './types.js'

const QUEUE = 'bench'

/** The URL Docket.open takes: the SQLite file, or the PostgreSQL URL with Docket's `schema` parameter. */
export function docketUrl(config: Pick<SystemConfig, 'kind' | 'target' | 'namespace'>): string {
  if (config.kind === 'docket-sqlite') return config.target
  const sep = config.target.includes('?') ? '&' : '?'
  return `${config.target}${sep}schema=${config.namespace}`
}

export function docketSystem(config: SystemConfig): QueueSystem {
  const url = docketUrl(config)
  return {
    id: config.id,
    async reset() {
      if (config.kind === 'docket-sqlite') removeSqlite(config.target)
      else await dropSchema(config.target, config.namespace)
      const docket = await Docket.open(url)
      await docket.createQueue({ name: QUEUE })
      await docket.close()
    },
    async producer(): Promise<Producer> {
      const docket = await Docket.open(url)
      return {
        async addBulk(n) {
          // addMany takes up to 50,000 jobs in one transaction.
          await docket.addMany(Array.from({ length: n }, () => ({ queue: QUEUE, type: 'noop', payload: {} })))
        },
        async addOne() {
          await docket.add(QUEUE, 'noop', {})
        },
        async remaining() {
          const c = (await docket.countJobs(QUEUE))[QUEUE]!
          return c.waiting + c.scheduled + c.active + c.blocked + c.held
        },
        close: () => docket.close(),
      }
    },
    async consumer(settings: WorkerSettings, onJob: () => void): Promise<Consumer> {
      const docket = await Docket.open(url)
      const { prefetch } = config.tuning
      const worker = new Worker(docket, {
        queues: [QUEUE],
        concurrency: inFlight(config, settings),
        // Only where the row asks for it: the worker's own default otherwise.
        ...(prefetch === undefined ? {} : { prefetch }),
        handlers: () => {
          onJob()
          return null
        },
      })
      return {
        async start() {
          await worker.start()
        },
        async stop() {
          await worker.close()
          await docket.close()
        },
      }
    },
  }
}
