/**
 * The worker's own events, like BullMQ's worker events: what happened to the
 * jobs this worker ran, told in this process as it happens. The database-wide
 * feed (`docket.subscribe()`) tells every process about every job; these tell
 * the application that runs the worker, with the job and its result or error
 * in hand and no round trip.
 *
 * Listeners are called synchronously, in the order they were added. A
 * listener that throws does not disturb the worker: its error is reported as
 * an `error` event (or to `onError`), with the job it was called for.
 */
import { EventEmitter } from 'node:events'
import type { ClaimedJob, Job } from '../core/types.js'
import type { AnyTasks, PayloadOf, ResultOf, TaskMap, TaskName } from '../docket/tasks.js'

/** A claimed job of type `N` of the task map: checking `job.type` narrows its payload. */
export type ClaimedTask<T extends TaskMap, N extends TaskName<T> = TaskName<T>> = {
  [K in N]: Omit<ClaimedJob<PayloadOf<T, K>>, 'type'> & { type: K }
}[N]

/**
 * The events and their arguments. With a task map (`Worker<Tasks>`) the job
 * is typed by it, and `completed`'s result by the job's type.
 */
export interface WorkerEvents<T extends TaskMap = AnyTasks> {
  /** The job's completion is written: the job as claimed, and what its handler returned. */
  completed: { [K in TaskName<T>]: [job: ClaimedTask<T, K>, result: ResultOf<T, K>] }[TaskName<T>]
  /**
   * An attempt failed and the job will run again: the job as claimed, the
   * error, and the job as it is now (`next.runAt` is when it runs again).
   */
  retrying: [job: ClaimedTask<T>, error: Error, next: Job]
  /** An attempt failed and the job will not run again (no attempts left, or not retryable). */
  failed: [job: ClaimedTask<T>, error: Error, next: Job]
  /**
   * Something went wrong in the worker itself: a claim, a heartbeat or a write
   * that failed, or a listener that threw; with the job it concerns, if any.
   */
  error: [error: unknown, job?: ClaimedTask<T>]
}

export type WorkerEventName = keyof WorkerEvents

/** The listener of one of the worker's events. */
export type WorkerListener<E extends WorkerEventName, T extends TaskMap = AnyTasks> = (
  ...args: WorkerEvents<T>[E]
) => void

/**
 * The Worker's base: a typed EventEmitter, and the routes by which its parts
 * report outcomes (`emitCompleted`, `emitAttemptFailed`) and errors (`reportError`).
 */
export class WorkerEventEmitter<T extends TaskMap = AnyTasks> extends EventEmitter<WorkerEvents<T>> {
  readonly #onError: ((error: unknown, job?: ClaimedJob) => void) | null

  /** `onError`: the worker's option, called beside the `error` listeners. */
  constructor(onError: ((error: unknown, job?: ClaimedJob) => void) | null) {
    super()
    this.#onError = onError
  }

  /**
   * Reports an error to the `error` listeners and to `onError`. With neither,
   * it is printed: an error event nobody listens to must not throw, as
   * EventEmitter's would, and bring the process down.
   */
  protected reportError(error: unknown, job?: ClaimedJob): void {
    const listened = this.listenerCount('error') > 0
    if (listened) {
      try {
        this.#untyped.emit('error', error, job)
      } catch (listenerError) {
        console.error('[docket worker] an error listener threw', listenerError)
      }
    }
    if (this.#onError) this.#onError(error, job)
    else if (!listened) console.error('[docket worker]', error)
  }

  /** After a completion is written. */
  protected emitCompleted(job: ClaimedJob, result: unknown): void {
    this.#safely(job, () => this.#untyped.emit('completed', job, result))
  }

  /** After a failed attempt is recorded: `retrying` or `failed` as the job now stands. */
  protected emitAttemptFailed(job: ClaimedJob, error: Error, next: Job): void {
    const event = next.status === 'failed' ? 'failed' : 'retrying'
    this.#safely(job, () => this.#untyped.emit(event, job, error, next))
  }

  /** This emitter as the runtime sees it: its jobs are of any type, whatever the task map says. */
  get #untyped(): EventEmitter {
    return this as unknown as EventEmitter
  }

  #safely(job: ClaimedJob, emit: () => void): void {
    try {
      emit()
    } catch (error) {
      this.reportError(error, job)
    }
  }
}
