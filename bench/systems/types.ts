/**
 * One queue system under benchmark, seen through the same small interface:
 * the parent process resets its storage and enqueues; worker processes
 * (bench/child.ts) run its idiomatic worker with a no-op handler.
 */

export type SystemId =
  | 'docket-sqlite'
  | 'docket-postgres'
  | 'graphile-worker'
  | 'pg-boss'
  | 'pg-boss-batch'
  | 'bullmq'
  | 'plainjob'

export interface SystemConfig {
  id: SystemId
  /** A SQLite file, a postgres:// URL or a Redis host:port, as the system needs. */
  target: string
  /** PostgreSQL schema, Redis key prefix, or unused. */
  namespace: string
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
  /** Jobs in flight per worker process. */
  concurrency: number
  /** Poll interval for systems that only poll (pg-boss, plainjob). */
  pollMs: number
}

export interface QueueSystem {
  readonly id: SystemId
  /** Drops everything this system stored, and creates its empty queue. */
  reset(): Promise<void>
  producer(): Promise<Producer>
  /** A worker whose handler calls `onJob` first thing and does nothing else. */
  consumer(settings: WorkerSettings, onJob: () => void): Promise<Consumer>
}

/** A logger that says nothing: peers default to logging every job, which would dominate a no-op run. */
export const quietLogger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
}
