/**
 * How a handler's run ends early, shared by the library's Worker and
 * docket/client's RemoteWorker (so `instanceof` holds whichever entry point
 * a handler imported them from). No imports: the HTTP client's path takes it
 * without Node.
 */

export type AbortReason = 'cancelled' | 'lease-lost' | 'timeout' | 'shutdown'

/** `ctx.signal.reason` once a job's run is aborted: cancelled, lease lost, timed out, or the worker shutting down. */
export class JobAbortedError extends Error {
  override readonly name = 'JobAbortedError'
  constructor(
    readonly reason: AbortReason,
    message: string,
  ) {
    super(message)
  }
}

/** Thrown by `ctx.snooze()` once the job is snoozed, to end the handler; the worker records nothing more. */
export class JobSnoozedError extends Error {
  override readonly name = 'JobSnoozedError'
  constructor(readonly delayMs: number) {
    super(`the job was snoozed for ${delayMs} ms`)
  }
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}
