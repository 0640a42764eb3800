/** The figures one `npm run bench` produces; written to bench/results/latest.json and rendered into docs. */
import type { SystemId } from '../systems/types.js'
import type { Machine } from './context.js'

export interface PickupResult {
  /** Per repetition: the median and the 99th percentile, in ms. */
  medians: number[]
  p99s: number[]
  /** All samples, pooled over the repetitions, in ms. */
  samples: number
  pooledMedian: number
  pooledP99: number
}

export interface GrowthResult {
  finishedRows: number
  /** Per repetition: median and p99 of one claim call, in ms. */
  medians: number[]
  p99s: number[]
  /** Seconds it took to insert the finished rows (bulk SQL, not Docket's API). */
  fillSeconds: number
}

/** What one processing run cost per job it finished; null where not measured (no such server). */
export interface PerJob {
  /** CPU of the worker processes, µs. */
  workerCpuUs: number | null
  /** CPU of the database server (every postgres, or redis-server, process), µs. */
  serverCpuUs: number | null
  /** PostgreSQL WAL written (pg_current_wal_lsn() before and after), bytes. */
  walBytes: number | null
}

export interface Results {
  startedAt: string
  command: string
  runtimeSeconds: number
  machine: Machine
  versions: Record<string, string>
  settings: Record<string, number | string>
  notes: string[]
  systems: SystemId[]
  /** Jobs per second of one bulk add of `settings.jobs` jobs; every run's add is a sample. */
  bulkAdd: Partial<Record<SystemId, number[]>>
  /** Jobs per second, enqueue excluded, worker start included; one sample per repetition. */
  throughput: Partial<Record<SystemId, { one: number[]; two: number[] }>>
  /** Per job, one entry per processing run, by worker processes. */
  perJob: Partial<Record<SystemId, { one: PerJob[]; two: PerJob[] }>>
  /** Systems with a processing run cut short at the cap (rate over the jobs finished by then). */
  capped: Partial<Record<SystemId, boolean>>
  /** Peak RSS of one worker process, MB, over the one-process runs. */
  memoryMb: Partial<Record<SystemId, number[]>>
  /** Peak RSS of a worker process that loads nothing (Node alone), MB. */
  baselineMb: number | null
  pickup: Partial<Record<SystemId, PickupResult>>
  limits: {
    /** pgbench, one single-row UPDATE per transaction: commits per second. */
    pg1: number[]
    pg8: number[]
    /** better-sqlite3, WAL, synchronous NORMAL, one single-row UPDATE per transaction. */
    sqlite: number[]
    /** pgbench, one UPDATE of 100 rows per transaction, no indexed column changed (HOT): rows per second. */
    hot100x1: number[]
    hot100x8: number[]
    /**
     * pgbench, a bare queue table: claim 100 (UPDATE ... FOR UPDATE SKIP LOCKED, the status is
     * indexed, so not HOT) and complete those 100, each its own transaction: jobs per second.
     */
    cycle100x1: number[]
    cycle100x2: number[]
  }
  growth: Partial<Record<'sqlite' | 'postgres', GrowthResult[]>>
  /** Seconds each part took. */
  timings: Record<string, number>
}
