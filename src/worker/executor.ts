/**
 * The executor runs one claimed job: it calls the handler with the job's
 * context, enforces the job's timeout, and stops waiting for the handler as
 * soon as the job's signal aborts (cancel, lost lease, timeout, shutdown).
 * What the handler returns goes to the completer; what it throws fails the
 * attempt, unless the abort means the lease is already gone or handed back.
 */
import { isDocketError } from '../core/errors.js'
import { MAX_DELAY_MS } from '../core/snooze.js'
import type { ClaimedJob, Job } from '../core/types.js'
import { type Docket, RetryAfterError, UnrecoverableError } from '../docket.js'
import { type RunOutcome, RunSpan } from '../tracing/spans.js'
import { type AbortReason, JobAbortedError, untilAborted } from './abort.js'
import type { Completer } from './completer.js'
import { createContext, type SnoozeState } from './context.js'
import { writeWhileLeased } from './lease-writes.js'
import type { AnyHandlers, BackoffFunction, Handler } from './options.js'

export interface ExecutorDeps {
  docket: Docket
  workerId: string
  handlers: AnyHandlers
  /** Backoff functions by job type (WorkerOptions.backoff). */
  backoff?: Record<string, BackoffFunction>
  completer: Completer
  /** Called once a failed attempt is recorded, with the job as it is now (the worker's `retrying` and `failed` events). */
  onAttemptFailed?: (job: ClaimedJob, error: Error, next: Job) => void
  onError: (error: unknown, job?: ClaimedJob) => void
}

const ABORT_MESSAGES: Record<AbortReason, string> = {
  cancelled: 'the job was cancelled',
  'lease-lost': 'the lease on this job was lost',
  timeout: 'the job timed out',
  shutdown: 'the worker is shutting down',
}

/** One job being run. `done` settles when the handler is finished with and its outcome handed on. */
export class Execution {
  readonly #controller = new AbortController()
  readonly done: Promise<void>

  constructor(
    readonly job: ClaimedJob,
    deps: ExecutorDeps,
  ) {
    this.done = run(this.job, this.#controller, deps)
  }

  get aborted(): boolean {
    return this.#controller.signal.aborted
  }

  /** Fires the handler's signal with a JobAbortedError saying why; later calls change nothing. */
  abort(reason: AbortReason, message = ABORT_MESSAGES[reason]): void {
    if (!this.aborted) this.#controller.abort(new JobAbortedError(reason, message))
  }
}

async function run(job: ClaimedJob, controller: AbortController, deps: ExecutorDeps): Promise<void> {
  const handler = handlerFor(deps.handlers, job.type)
  const span = new RunSpan(job, deps.workerId)
  let outcome: RunOutcome = 'completed'
  let failure: unknown
  const timeout =
    job.timeoutMs === null
      ? null
      : setTimeout(
          () => controller.abort(new JobAbortedError('timeout', `timed out after ${job.timeoutMs} ms`)),
          job.timeoutMs,
        )
  // Set once the handler snoozed the job: the lease is given back, so nothing is left to report.
  const snooze: SnoozeState = { snoozed: false }
  try {
    if (!handler)
      throw new UnrecoverableError(`no handler for job type '${job.type}' on worker ${deps.workerId}`)
    const result = await untilAborted(
      Promise.resolve().then(() =>
        span.within(() => handler(job, createContext(deps.docket, job, controller.signal, snooze))),
      ),
      controller.signal,
    )
    if (snooze.snoozed) {
      outcome = 'snoozed'
      return
    }
    // Checked here, as complete() would: a result it refuses fails this job alone, instead of
    // the whole batch of completions it would have been written with.
    try {
      deps.docket.workers.assertResult(result)
    } catch (error) {
      throw new UnrecoverableError(
        `the handler returned a result that cannot be stored: ${(error as Error).message}`,
      )
    }
    // Not awaited: the slot frees now and the completion is written with the next batch.
    deps.completer.complete(job, result).catch((e) => deps.onError(e, job))
  } catch (error) {
    if (snooze.snoozed) {
      outcome = 'snoozed'
      return
    }
    failure = controller.signal.aborted ? controller.signal.reason : error
    outcome = await failAttempt(deps, job, failure)
  } finally {
    if (timeout) clearTimeout(timeout)
    span.end(outcome, failure)
  }
}

function handlerFor(handlers: ExecutorDeps['handlers'], type: string): Handler | undefined {
  if (typeof handlers === 'function') return handlers
  return Object.hasOwn(handlers, type) ? handlers[type] : undefined
}

/** Records the failed attempt; says how the attempt ended, for its span. */
async function failAttempt(deps: ExecutorDeps, job: ClaimedJob, error: unknown): Promise<RunOutcome> {
  const reason: AbortReason | null = error instanceof JobAbortedError ? error.reason : null
  // Cancelled, lost or released: the lease is gone or handed back, so there is nothing to report.
  if (reason === 'cancelled' || reason === 'lease-lost' || reason === 'shutdown') return reason
  const err = error instanceof Error ? error : new Error(String(error))
  const retryable = !(error instanceof UnrecoverableError)
  const retryInMs = retryable ? customBackoff(deps, job, err) : undefined
  try {
    const next = await writeWhileLeased(deps.docket, job.lease.expiresAt.getTime(), () =>
      deps.docket.workers.fail(job, err, retryInMs === undefined ? { retryable } : { retryable, retryInMs }),
    )
    deps.onAttemptFailed?.(job, err, next)
    return next.status === 'failed' ? 'failed' : 'retrying'
  } catch (e) {
    if (isDocketError(e, 'LEASE_LOST')) return 'lease-lost'
    deps.onError(e, job)
    return 'unrecorded'
  }
}

/**
 * The worker's backoff function for the job's type, if it has one and the
 * error is not a RetryAfterError (which names its own delay). A function that
 * throws or answers something other than a duration is reported, and the
 * job's own backoff applies.
 */
function customBackoff(deps: ExecutorDeps, job: ClaimedJob, error: Error): number | undefined {
  const backoff = deps.backoff?.[job.type]
  if (!backoff || error instanceof RetryAfterError || !Object.hasOwn(deps.backoff!, job.type))
    return undefined
  try {
    const ms = backoff(job.attempts, error)
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      throw new TypeError(
        `the backoff function for '${job.type}' returned ${String(ms)}, not a duration in ms`,
      )
    return Math.min(Math.round(ms), MAX_DELAY_MS)
  } catch (e) {
    deps.onError(e, job)
    return undefined
  }
}
