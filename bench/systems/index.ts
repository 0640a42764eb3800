/** Every system under benchmark, and where each keeps its data in this run. */
import { join } from 'node:path'
import type { QueueSystem, SystemConfig, SystemId } from './types.js'

export const SYSTEM_LABELS: Record<SystemId, string> = {
  'docket-sqlite': 'Docket (SQLite)',
  'docket-postgres': 'Docket (PostgreSQL)',
  'graphile-worker': 'graphile-worker',
  'pg-boss': 'pg-boss',
  'pg-boss-batch': 'pg-boss, batchSize 1000',
  bullmq: 'BullMQ (Redis)',
  plainjob: 'plainjob (SQLite)',
}

export const BACKEND: Record<SystemId, 'sqlite' | 'postgres' | 'redis'> = {
  'docket-sqlite': 'sqlite',
  'docket-postgres': 'postgres',
  'graphile-worker': 'postgres',
  'pg-boss': 'postgres',
  'pg-boss-batch': 'postgres',
  bullmq: 'redis',
  plainjob: 'sqlite',
}

/**
 * Supplementary: pg-boss as it is scaled for throughput, 1,000 jobs per fetch
 * (pg-boss 10 fetches one batch per polling interval, so at 10 jobs in flight
 * it cannot pass 20 jobs/s per process). Measured for throughput only, and
 * not counted as a peer in ratios and targets: it has 100 times the jobs in
 * flight of every other system.
 */
export const SUPPLEMENTARY = new Set<SystemId>(['pg-boss-batch'])
export const PG_BOSS_BIG_BATCH = 1000

/** Systems with no wake-up: a worker notices a new job at its next poll. */
export const POLL_ONLY = new Set<SystemId>(['pg-boss', 'plainjob'])

export function systemConfigs(opts: { tmpDir: string; pgUrl: string; redis: string | null }): SystemConfig[] {
  const configs: SystemConfig[] = [
    { id: 'docket-sqlite', target: join(opts.tmpDir, 'docket.db'), namespace: '' },
    { id: 'docket-postgres', target: opts.pgUrl, namespace: 'bench_docket' },
    { id: 'graphile-worker', target: opts.pgUrl, namespace: 'bench_graphile_worker' },
    { id: 'pg-boss', target: opts.pgUrl, namespace: 'bench_pgboss' },
    { id: 'pg-boss-batch', target: opts.pgUrl, namespace: 'bench_pgboss' },
    { id: 'plainjob', target: join(opts.tmpDir, 'plainjob.db'), namespace: '' },
  ]
  if (opts.redis) configs.push({ id: 'bullmq', target: opts.redis, namespace: 'docketbench' })
  return configs
}

/** Loads only the adapter asked for, so a worker process holds no other system's code (its RSS is measured). */
export async function createSystem(config: SystemConfig): Promise<QueueSystem> {
  switch (config.id) {
    case 'docket-sqlite':
    case 'docket-postgres':
      return (await import('./docket.js')).docketSystem(config)
    case 'graphile-worker':
      return (await import('./graphile-worker.js')).graphileWorkerSystem(config)
    case 'pg-boss':
    case 'pg-boss-batch':
      return (await import('./pg-boss.js')).pgBossSystem(config)
    case 'bullmq':
      return (await import('./bullmq.js')).bullmqSystem(config)
    case 'plainjob':
      return (await import('./plainjob.js')).plainjobSystem(config)
  }
}
