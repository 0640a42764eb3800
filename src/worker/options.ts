/**
 * The worker's options: their schema (zod, strict, like every other options
 * object; see core/options.ts) and their defaults. A bad option is an
 * INVALID_ARGUMENT DocketError naming the field, raised by the constructor.
 */
import { z } from 'zod'
import { leaseMs, parse, queueName, workerId } from '../core/options.js'
import type { ClaimedJob } from '../core/types.js'
import type { AnyTasks, PayloadOf, ResultOf, TaskMap, TaskName } from '../docket/tasks.js'
import type { JobContext } from './context.js'

/** Runs one job; what it returns (JSON) is the job's result. */
export type Handler<Payload = unknown, Result = unknown> = (
  job: ClaimedJob<Payload>,
  ctx: JobContext<Payload>,
) => Promise<Result> | Result

/**
 * A handler as an option takes it: checked like a method, so that a handler
 * written for a narrower payload (`Handler<{ text: string }>`) is accepted
 * without a task map too, while one written inline gets the map's payload
 * type (`unknown` without a map) and its return value is checked.
 */
type HandlerOption<P, R> = {
  bivariant(job: ClaimedJob<P>, ctx: JobContext<P>): Promise<R> | R
}['bivariant']

/** A handler per job type of the task map, each typed by it (docket/tasks.ts). */
export type Handlers<T extends TaskMap = AnyTasks> = {
  [K in TaskName<T>]?: HandlerOption<PayloadOf<T, K>, ResultOf<T, K>>
}

/** The handlers as the runtime holds them, once their types have done their work. */
export type AnyHandlers = Record<string, Handler> | Handler

/**
 * How long to wait before retrying a job of one type after attempt `attempt`
 * (1-based) failed with `error`, in milliseconds; replaces the job's backoff.
 */
export type BackoffFunction = (attempt: number, error: Error) => number

export interface WorkerOptions<T extends TaskMap = AnyTasks> {
  queues: string[]
  /** A handler per job type, or one function for every type. */
  handlers: Handlers<T> | HandlerOption<PayloadOf<T, TaskName<T>>, ResultOf<T, TaskName<T>>>
  /**
   * A backoff function per job type, replacing the job's backoff policy:
   * `{ analyse: (attempt, error) => attempt * 10_000 }`. A RetryAfterError
   * thrown by the handler still wins for its attempt.
   */
  backoff?: Record<string, BackoffFunction>
  /** Jobs run at once by this worker. Default 5. */
  concurrency?: number
  /** Most jobs taken per claim. Default: the free slots. */
  batchSize?: number
  /**
   * Jobs claimed ahead of the free slots and held in a local queue, so that a
   * slot that frees starts its next job without a round trip (as
   * graphile-worker's local queue). They are leased like running jobs: kept
   * alive by the heartbeat, dropped if cancelled, handed back on close, and
   * recovered like running jobs if the worker dies. They count as active for
   * the queue's concurrency and rate limits. Default 0.
   */
  prefetch?: number
  /** Lease length. Default 30 s. */
  leaseMs?: number
  /** How often leases are extended. Default leaseMs / 3. */
  heartbeatMs?: number
  /**
   * How often running jobs are checked for cancellation. Default 500 ms. On
   * PostgreSQL a cancel also arrives at once as a notification; this is the safety net.
   */
  cancelCheckMs?: number
  /** Safety-net poll when no wake-up arrives. Default 1 s. */
  pollMs?: number
  capabilities?: string[]
  /** The kind of machine, such as 'cpu' or 'gpu'. Default 'cpu'. */
  kind?: string
  id?: string
  /** How long close() lets running jobs finish before aborting and releasing them. Default 10 s. */
  shutdownGraceMs?: number
  /** Close gracefully on SIGTERM and SIGINT. Default false in the library, true in `docket worker`. */
  handleSignals?: boolean
  /** Take part in maintenance (lease recovery, lost workers, retention). Default true. */
  maintenance?: boolean
  maintenanceIntervalMs?: number
  /**
   * Called with every error in the worker (a claim, a heartbeat or a write that
   * failed), beside the `error` event's listeners. With neither, errors are printed.
   */
  onError?: (error: unknown, job?: ClaimedJob) => void
}

/** The options with every default applied. */
export interface WorkerSettings {
  queues: string[]
  handlers: AnyHandlers
  backoff: Record<string, BackoffFunction>
  concurrency: number
  /** null: as many as there are free slots. */
  batchSize: number | null
  prefetch: number
  leaseMs: number
  heartbeatMs: number
  cancelCheckMs: number
  pollMs: number
  capabilities: string[]
  kind: string
  id: string | null
  shutdownGraceMs: number
  handleSignals: boolean
  maintenance: boolean
  maintenanceIntervalMs: number
  /** null: errors go to the `error` listeners, or are printed when there are none (see events.ts). */
  onError: ((error: unknown, job?: ClaimedJob) => void) | null
}

const fn = <T>() => z.custom<T>((value) => typeof value === 'function', 'expected a function')
const handler = fn<Handler>()
const label = z.string().min(1).max(200)
/** Longer timers fire at once in Node (and warn), so no interval may exceed this. */
const MAX_TIMER_MS = 2_147_483_647
const timerMs = z.number().int().min(1).max(MAX_TIMER_MS)

export const workerOptions = z.strictObject({
  queues: z.array(queueName).min(1, 'name at least one queue').max(100),
  handlers: z.union([handler, z.record(z.string(), handler)], {
    error: 'expected a handler function, or an object of handler functions by job type',
  }),
  backoff: z
    .record(z.string(), fn<BackoffFunction>(), {
      error: 'expected an object of backoff functions by job type',
    })
    .optional(),
  concurrency: z.number().int().min(1).max(10_000).optional(),
  batchSize: z.number().int().min(1).max(1000).optional(),
  prefetch: z.number().int().min(0).max(10_000).optional(),
  leaseMs: leaseMs.optional(),
  heartbeatMs: timerMs.optional(),
  cancelCheckMs: timerMs.optional(),
  pollMs: timerMs.optional(),
  capabilities: z.array(label).max(50).optional(),
  kind: label.optional(),
  id: workerId.optional(),
  shutdownGraceMs: z.number().int().min(0).max(MAX_TIMER_MS).optional(),
  handleSignals: z.boolean().optional(),
  maintenance: z.boolean().optional(),
  maintenanceIntervalMs: timerMs.optional(),
  onError: fn<NonNullable<WorkerOptions['onError']>>().optional(),
})

/** Validates the options (INVALID_ARGUMENT naming each bad field) and applies the defaults. */
export function resolveWorkerOptions<T extends TaskMap>(options: WorkerOptions<T>): WorkerSettings {
  const o = parse(workerOptions, options, 'worker options')
  const leaseMs = o.leaseMs ?? 30_000
  return {
    queues: o.queues,
    handlers: o.handlers as AnyHandlers,
    backoff: o.backoff ?? {},
    concurrency: o.concurrency ?? 5,
    batchSize: o.batchSize ?? null,
    prefetch: o.prefetch ?? 0,
    leaseMs,
    heartbeatMs: o.heartbeatMs ?? Math.max(50, Math.floor(leaseMs / 3)),
    cancelCheckMs: o.cancelCheckMs ?? 500,
    pollMs: o.pollMs ?? 1_000,
    capabilities: o.capabilities ?? [],
    kind: o.kind ?? 'cpu',
    id: o.id ?? null,
    shutdownGraceMs: o.shutdownGraceMs ?? 10_000,
    handleSignals: o.handleSignals ?? false,
    maintenance: o.maintenance ?? true,
    maintenanceIntervalMs: o.maintenanceIntervalMs ?? 1_000,
    onError: o.onError ?? null,
  }
}
