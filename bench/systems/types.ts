/**
 * One queue system under benchmark, seen through the same small interface:
 * the parent process resets its storage and enqueues; worker processes
 * (bench/child.ts) run its idiomatic worker with a no-op handler.
 *
 * A row of the report is a system at one setting: the same kind (adapter)
 * can appear twice, at the common 10 jobs in flight and at its best
 * documented setting (see ROWS in index.ts).
 */

/** The adapters: one per system. */
export type SystemKind =
  | 'docket-sqlite'
  | 'docket-postgres'
  | 'graphile-worker'
  | 'pg-boss'
  | 'bullmq'
  | 'plainjob'
  | 'sidequest'

/** The rows: a kind at the default 10 in flight, at its best documented setting (`-best`), or Docket at 10 in flight with a local queue (`-prefetch`). */
export type SystemId =
  | 'docket-sqlite'
  | 'docket-sqlite-best'
  | 'docket-sqlite-prefetch'
  | 'docket-postgres'
  | 'docket-postgres-best'
  | 'docket-postgres-prefetch'
  | 'graphile-worker'
  | 'graphile-worker-best'
  | 'pg-boss'
  | 'pg-boss-best'
  | 'bullmq'
  | 'bullmq-best'
  | 'plainjob'
  | 'plainjob-best'
  | 'sidequest'
  | 'sidequest-best'

/**
 * A row's worker settings beyond the common ones; each adapter reads the
 * ones it knows. `concurrency` here overrides the bench's common 10.
 */
export interface Tuning {
  /** Jobs in flight per worker process (each system's own name for it is in its adapter). */
  concurrency?: number
  /** Docket: jobs claimed ahead of free slots (WorkerOptions.prefetch, where Docket has it). */
  prefetch?: number
  /** graphile-worker: preset.worker.localQueue.size. */
  localQueueSize?: number
  /** graphile-worker: preset.worker.completeJobBatchDelay and failJobBatchDelay (ms). */
  batchDelayMs?: number
  /** graphile-worker: preset.worker.maxPoolSize. */
  maxPoolSize?: number
  /** pg-boss: work() batchSize (jobs per fetch) and burstWhenBatchFull. */
  batchSize?: number
  burst?: boolean
  /** sidequest: runner, 'thread' (its default) or 'inline'. */
  runner?: 'thread' | 'inline'
}

export interface SystemConfig {
  id: SystemId
  kind: SystemKind
  /** A SQLite file, a postgres:// URL or a Redis host:port, as the system needs. */
  target: string
  /** PostgreSQL schema, Redis key prefix, or unused. */
  namespace: string
  tuning: Tuning
}

export interface Producer {
  /** Enqueues `n` no-op jobs with the system's own bulk call. */
  addBulk(n: number): Promise<void>
  /** Enqueues one no-op job. */
  addOne(): Promise<void>
  /** Jobs not yet finished (waiting, scheduled or running), by the system's own API. */
  remaining(): Promise<number>
  close(): Promise<void>
}

export interface Consumer {
  /** Starts taking jobs; connections are already open, so this is quick. */
  start(): Promise<void>
  /** Stops gracefully. */
  stop(): Promise<void>
}

export interface WorkerSettings {
  /** Jobs in flight per worker process, unless the row's tuning says otherwise. */
  concurrency: number
  /** Poll interval for systems that only poll (pg-boss, plainjob). */
  pollMs: number
}

export interface QueueSystem {
  readonly id: SystemId
  /** Drops everything this system stored, and creates its empty queue (for workers with these settings). */
  reset(settings: WorkerSettings): Promise<void>
  producer(): Promise<Producer>
  /** A worker whose handler calls `onJob` first thing and does nothing else. */
  consumer(settings: WorkerSettings, onJob: () => void): Promise<Consumer>
}

/** Jobs in flight per process for this row: its own setting, else the bench's common one. */
export const inFlight = (config: SystemConfig, settings: WorkerSettings) =>
  config.tuning.concurrency ?? settings.concurrency

/** A logger that says nothing: peers default to logging every job, which would dominate a no-op run. */
export const quietLogger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
}
