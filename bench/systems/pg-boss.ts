/**
 * pg-boss 12 through its public API (the named export PgBoss): createQueue,
 * insert(name, jobs) for bulk adds, send() for one, work() for workers.
 * At its defaults pg-boss polls (LISTEN/NOTIFY is opt-in per queue), and a
 * worker waits its polling interval between fetches.
 *
 * 10 in flight: work() with localConcurrency 10, pg-boss's own way to run N
 * handlers at once (N workers, one job per fetch each). The best-settings row
 * fetches 1,000 jobs at a time with burstWhenBatchFull (fetch again at once
 * while batches come back full); the handler gets the batch as an array and
 * the whole batch is completed in one statement.
 *
 * What is left is counted in pg-boss's job table (its queue counts are a
 * cache refreshed once a minute).
 */
import { importPeer } from '../lib/peers.js'
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

interface WorkOptions {
  batchSize: number
  localConcurrency: number
  pollingIntervalSeconds: number
  burstWhenBatchFull?: boolean
}
interface Boss {
  on(event: 'error', listener: (error: unknown) => void): void
  start(): Promise<unknown>
  stop(options?: { graceful?: boolean; wait?: boolean; timeout?: number }): Promise<void>
  createQueue(name: string): Promise<void>
  insert(name: string, jobs: { data: object }[]): Promise<unknown>
  send(name: string, data: object): Promise<string | null>
  work(name: string, options: WorkOptions, handler: (jobs: unknown[]) => Promise<void>): Promise<string>
}
type BossClass = new (options: { connectionString: string; schema: string; max?: number }) => Boss

export function pgBossSystem(config: SystemConfig): QueueSystem {
  const { target: connectionString, namespace: schema } = config
  const open = async () => {
    const { PgBoss } = await importPeer<{ PgBoss: BossClass }>('pg-boss')
    const boss = new PgBoss({ connectionString, schema })
    boss.on('error', (error) => console.error('[pg-boss]', error))
    await boss.start()
    return boss
  }
  return {
    id: config.id,
    async reset() {
      await dropSchema(connectionString, schema)
      const boss = await open()
      await boss.createQueue(QUEUE)
      await boss.stop({ graceful: false, wait: true })
    },
    async producer(): Promise<Producer> {
      const boss = await open()
      const { default: pg } = await import('pg')
      const counter = new pg.Client({ connectionString })
      await counter.connect()
      return {
        async addBulk(n) {
          await boss.insert(
            QUEUE,
            Array.from({ length: n }, () => ({ data: {} })),
          )
        },
        async addOne() {
          await boss.send(QUEUE, {})
        },
        async remaining() {
          const { rows } = await counter.query(
            `SELECT count(*)::int AS n FROM ${schema}.job WHERE name = $1 AND state < 'completed'`,
            [QUEUE],
          )
          return Number(rows[0].n)
        },
        async close() {
          await counter.end()
          await boss.stop({ graceful: false, wait: true })
        },
      }
    },
    async consumer(settings: WorkerSettings, onJob: () => void): Promise<Consumer> {
      const boss = await open()
      const { batchSize, burst } = config.tuning
      const options: WorkOptions =
        batchSize === undefined
          ? {
              batchSize: 1,
              localConcurrency: inFlight(config, settings),
              pollingIntervalSeconds: settings.pollMs / 1000,
            }
          : {
              batchSize,
              localConcurrency: 1,
              pollingIntervalSeconds: settings.pollMs / 1000,
              ...(burst ? { burstWhenBatchFull: true } : {}),
            }
      return {
        async start() {
          await boss.work(QUEUE, options, async (jobs) => {
            await Promise.all(jobs.map(async () => onJob()))
          })
        },
        async stop() {
          await boss.stop({ graceful: true, wait: true, timeout: 10_000 })
        },
      }
    },
  }
}
