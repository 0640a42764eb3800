/**
 * pg-boss through its public API: insert() for bulk adds, send() for one,
 * work() for workers (pg-boss polls; it has no LISTEN/NOTIFY wake-up), and
 * getQueueSize(before: 'completed') for what is left.
 *
 * Concurrency: pg-boss 10 runs one fetch loop per work() call; its own way to
 * have N jobs in flight is batchSize N (the handler gets an array, and the
 * whole batch is completed in one statement), which is what this uses.
 * The supplementary 'pg-boss-batch' takes 1,000 jobs per fetch instead.
 */
import { importPeer } from '../lib/peers.js'
import { PG_BOSS_BIG_BATCH } from './index.js'
import { dropSchema } from './storage.js'
import type { Consumer, Producer, QueueSystem, SystemConfig, WorkerSettings } from './types.js'

const QUEUE = 'bench'

interface Boss {
  on(event: 'error', listener: (error: unknown) => void): void
  start(): Promise<unknown>
  stop(options?: { graceful?: boolean; wait?: boolean; timeout?: number }): Promise<void>
  createQueue(name: string): Promise<void>
  insert(jobs: { name: string; data: object }[]): Promise<void>
  send(name: string, data: object): Promise<string | null>
  getQueueSize(name: string, options: { before: 'completed' }): Promise<number>
  work(
    name: string,
    options: { batchSize: number; pollingIntervalSeconds: number },
    handler: (jobs: unknown[]) => Promise<void>,
  ): Promise<string>
}
type BossClass = new (options: { connectionString: string; schema: string }) => Boss

export function pgBossSystem(config: SystemConfig): QueueSystem {
  const { target: connectionString, namespace: schema } = config
  const open = async () => {
    const PgBoss = (await importPeer<{ default: BossClass }>('pg-boss')).default
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
      return {
        async addBulk(n) {
          await boss.insert(Array.from({ length: n }, () => ({ name: QUEUE, data: {} })))
        },
        async addOne() {
          await boss.send(QUEUE, {})
        },
        remaining: () => boss.getQueueSize(QUEUE, { before: 'completed' }),
        close: () => boss.stop({ graceful: false, wait: true }),
      }
    },
    async consumer(settings: WorkerSettings, onJob: () => void): Promise<Consumer> {
      const boss = await open()
      const batchSize = config.id === 'pg-boss-batch' ? PG_BOSS_BIG_BATCH : settings.concurrency
      return {
        async start() {
          await boss.work(
            QUEUE,
            { batchSize, pollingIntervalSeconds: settings.pollMs / 1000 },
            async (jobs) => {
              await Promise.all(jobs.map(async () => onJob()))
            },
          )
        },
        async stop() {
          await boss.stop({ graceful: true, wait: true, timeout: 10_000 })
        },
      }
    },
  }
}
