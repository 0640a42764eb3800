/**
 * graphile-worker through its public API: makeWorkerUtils for adding jobs and
 * migrating, run() with a task list for workers (LISTEN/NOTIFY plus polling),
 * and its documented read-only `jobs` view for counting what is left.
 *
 * The best-settings row passes its performance page's preset
 * (`preset.worker`: localQueue.size, completeJobBatchDelay, failJobBatchDelay,
 * maxPoolSize) beside `concurrency`.
 */
import { importPeer } from '../lib/peers.js'
import { dropSchema } from './storage.js'
import {
  type Consumer,
  inFlight,
  type Producer,
  type QueueSystem,
  quietLogger,
  type SystemConfig,
  type WorkerSettings,
} from './types.js'

interface PgClient {
  query(sql: string): Promise<{ rows: Record<string, unknown>[] }>
}
interface WorkerUtils {
  addJob(identifier: string, payload: unknown): Promise<unknown>
  addJobs(specs: { identifier: string; payload: unknown }[]): Promise<unknown>
  migrate(): Promise<void>
  withPgClient<T>(fn: (client: PgClient) => Promise<T>): Promise<T>
  release(): Promise<void>
}
interface WorkerPreset {
  localQueue?: { size: number }
  completeJobBatchDelay?: number
  failJobBatchDelay?: number
  maxPoolSize?: number
}
interface Runner {
  stop(): Promise<void>
}
interface GraphileWorker {
  Logger: new (factory: () => (level: string, message: string) => void) => unknown
  makeWorkerUtils(options: {
    connectionString: string
    schema: string
    logger: unknown
  }): Promise<WorkerUtils>
  run(options: {
    connectionString: string
    schema: string
    concurrency: number
    noHandleSignals: boolean
    logger: unknown
    preset?: { worker: WorkerPreset }
    taskList: Record<string, () => Promise<void>>
  }): Promise<Runner>
}

export function graphileWorkerSystem(config: SystemConfig): QueueSystem {
  const { target: connectionString, namespace: schema } = config
  const load = async () => {
    const gw = await importPeer<GraphileWorker>('graphile-worker')
    const logger = new gw.Logger(() => quietLogger.debug)
    return { gw, logger }
  }
  const utils = async () => {
    const { gw, logger } = await load()
    return gw.makeWorkerUtils({ connectionString, schema, logger })
  }
  return {
    id: config.id,
    async reset() {
      await dropSchema(connectionString, schema)
      const u = await utils()
      await u.migrate()
      await u.release()
    },
    async producer(): Promise<Producer> {
      const u = await utils()
      return {
        async addBulk(n) {
          await u.addJobs(Array.from({ length: n }, () => ({ identifier: 'noop', payload: {} })))
        },
        async addOne() {
          await u.addJob('noop', {})
        },
        async remaining() {
          // Completed jobs are deleted, so whatever is still in the table is unfinished.
          return u.withPgClient(async (c) => {
            const { rows } = await c.query(`SELECT count(*)::int AS n FROM ${schema}.jobs`)
            return Number(rows[0]!.n)
          })
        },
        close: () => u.release(),
      }
    },
    async consumer(settings: WorkerSettings, onJob: () => void): Promise<Consumer> {
      const { gw, logger } = await load()
      const { localQueueSize, batchDelayMs, maxPoolSize } = config.tuning
      const worker: WorkerPreset = {
        ...(localQueueSize === undefined ? {} : { localQueue: { size: localQueueSize } }),
        ...(batchDelayMs === undefined
          ? {}
          : { completeJobBatchDelay: batchDelayMs, failJobBatchDelay: batchDelayMs }),
        ...(maxPoolSize === undefined ? {} : { maxPoolSize }),
      }
      let runner: Runner | null = null
      return {
        async start() {
          runner = await gw.run({
            connectionString,
            schema,
            concurrency: inFlight(config, settings),
            noHandleSignals: true,
            logger,
            ...(Object.keys(worker).length > 0 ? { preset: { worker } } : {}),
            taskList: {
              noop: async () => {
                onJob()
              },
            },
          })
        },
        async stop() {
          await runner?.stop()
        },
      }
    },
  }
}
