/** Every row under benchmark: a system at one setting, and where it keeps its data in this run. */
import { join } from 'node:path'
import type { QueueSystem, SystemConfig, SystemId, SystemKind, Tuning } from './types.js'

export type Backend = 'sqlite' | 'postgres' | 'redis'

export const BACKEND: Record<SystemKind, Backend> = {
  'docket-sqlite': 'sqlite',
  'docket-postgres': 'postgres',
  'graphile-worker': 'postgres',
  'pg-boss': 'postgres',
  bullmq: 'redis',
  plainjob: 'sqlite',
  sidequest: 'postgres',
}

export const KIND_LABELS: Record<SystemKind, string> = {
  'docket-sqlite': 'Docket (SQLite)',
  'docket-postgres': 'Docket (PostgreSQL)',
  'graphile-worker': 'graphile-worker',
  'pg-boss': 'pg-boss',
  bullmq: 'BullMQ (Redis)',
  plainjob: 'plainjob (SQLite)',
  sidequest: 'sidequest',
}

export interface Row {
  kind: SystemKind
  /** The row at its best documented setting, rather than at the common 10 in flight. */
  best: boolean
  /** What the setting is, for the label ('' for the common one). */
  setting: string
  tuning: Tuning
}

/**
 * The rows, in the report's order. Each `-best` row is that system at its
 * own documented setting for throughput:
 *
 *   Docket           concurrency 500; and a `-prefetch` row: the common 10 in
 *                    flight with 50 more claimed ahead (WorkerOptions.prefetch)
 *   graphile-worker  the preset of its performance page: concurrentJobs 24,
 *                    maxPoolSize 25, localQueue.size 500,
 *                    completeJobBatchDelay and failJobBatchDelay 0
 *   pg-boss          batchSize 1000 with burstWhenBatchFull (fetch again at
 *                    once while batches come back full)
 *   BullMQ           concurrency 500
 *   plainjob         one defineWorker per process, as its README's
 *                    multi-process example
 *   sidequest        500 jobs at once, runner 'inline' (no worker-thread hop
 *                    per job)
 */
export const ROWS: Record<SystemId, Row> = {
  'docket-sqlite': { kind: 'docket-sqlite', best: false, setting: '', tuning: {} },
  'docket-sqlite-best': {
    kind: 'docket-sqlite',
    best: true,
    setting: 'concurrency 500',
    tuning: { concurrency: 500 },
  },
  // 10 in flight, as the common row, with a local queue of 50 claimed ahead (a claim of 25 or more at a time).
  'docket-sqlite-prefetch': {
    kind: 'docket-sqlite',
    best: true,
    setting: 'concurrency 10, prefetch 50',
    tuning: { concurrency: 10, prefetch: 50 },
  },
  'docket-postgres': { kind: 'docket-postgres', best: false, setting: '', tuning: {} },
  'docket-postgres-prefetch': {
    kind: 'docket-postgres',
    best: true,
    setting: 'concurrency 10, prefetch 50',
    tuning: { concurrency: 10, prefetch: 50 },
  },
  'docket-postgres-best': {
    kind: 'docket-postgres',
    best: true,
    setting: 'concurrency 500',
    tuning: { concurrency: 500 },
  },
  'graphile-worker': { kind: 'graphile-worker', best: false, setting: '', tuning: {} },
  'graphile-worker-best': {
    kind: 'graphile-worker',
    best: true,
    setting: 'concurrency 24, localQueue 500, batched completion',
    tuning: { concurrency: 24, maxPoolSize: 25, localQueueSize: 500, batchDelayMs: 0 },
  },
  'pg-boss': { kind: 'pg-boss', best: false, setting: '', tuning: {} },
  'pg-boss-best': {
    kind: 'pg-boss',
    best: true,
    setting: 'batchSize 1000, burst',
    tuning: { batchSize: 1000, burst: true },
  },
  sidequest: { kind: 'sidequest', best: false, setting: '', tuning: {} },
  'sidequest-best': {
    kind: 'sidequest',
    best: true,
    setting: 'concurrency 500, inline runner',
    tuning: { concurrency: 500, runner: 'inline' },
  },
  plainjob: { kind: 'plainjob', best: false, setting: '', tuning: {} },
  'plainjob-best': {
    kind: 'plainjob',
    best: true,
    setting: '1 worker per process',
    tuning: { concurrency: 1 },
  },
  bullmq: { kind: 'bullmq', best: false, setting: '', tuning: {} },
  'bullmq-best': { kind: 'bullmq', best: true, setting: 'concurrency 500', tuning: { concurrency: 500 } },
}

export const SYSTEM_LABELS = Object.fromEntries(
  Object.entries(ROWS).map(([id, row]) => [
    id,
    row.setting ? `${KIND_LABELS[row.kind]}, ${row.setting}` : KIND_LABELS[row.kind],
  ]),
) as Record<SystemId, string>

export const backendOf = (id: SystemId): Backend => BACKEND[ROWS[id].kind]
export const isDocket = (id: SystemId) => ROWS[id].kind.startsWith('docket')

/** Rows measured for throughput only: pickup and the latency targets take the common-setting rows. */
export const SUPPLEMENTARY = new Set<SystemId>(
  (Object.keys(ROWS) as SystemId[]).filter((id) => ROWS[id].best),
)

/** Systems with no wake-up at their defaults: a worker notices a new job at its next poll. */
export const POLL_ONLY = new Set<SystemKind>(['pg-boss', 'plainjob', 'sidequest'])

const NAMESPACE: Record<SystemKind, string> = {
  'docket-sqlite': '',
  'docket-postgres': 'bench_docket',
  'graphile-worker': 'bench_graphile_worker',
  'pg-boss': 'bench_pgboss',
  bullmq: 'docketbench',
  plainjob: '',
  sidequest: 'bench_sidequest',
}

export function systemConfigs(opts: { tmpDir: string; pgUrl: string; redis: string | null }): SystemConfig[] {
  const target = (kind: SystemKind) =>
    kind === 'docket-sqlite'
      ? join(opts.tmpDir, 'docket.db')
      : kind === 'plainjob'
        ? join(opts.tmpDir, 'plainjob.db')
        : kind === 'bullmq'
          ? opts.redis
          : opts.pgUrl
  return (Object.keys(ROWS) as SystemId[]).flatMap((id) => {
    const { kind, tuning } = ROWS[id]
    const t = target(kind)
    return t === null ? [] : [{ id, kind, target: t, namespace: NAMESPACE[kind], tuning }]
  })
}

/** Loads only the adapter asked for, so a worker process holds no other system's code (its RSS is measured). */
export async function createSystem(config: SystemConfig): Promise<QueueSystem> {
  switch (config.kind) {
    case 'docket-sqlite':
    case 'docket-postgres':
      return (await import('./docket.js')).docketSystem(config)
    case 'graphile-worker':
      return (await import('./graphile-worker.js')).graphileWorkerSystem(config)
    case 'pg-boss':
      return (await import('./pg-boss.js')).pgBossSystem(config)
    case 'bullmq':
      return (await import('./bullmq.js')).bullmqSystem(config)
    case 'plainjob':
      return (await import('./plainjob.js')).plainjobSystem(config)
    case 'sidequest':
      return (await import('./sidequest.js')).sidequestSystem(config)
  }
}
