import type { BackoffPolicy, Job, JobStatus } from './types.js'

export const DEFAULT_BACKOFF: BackoffPolicy = {
  type: 'exponential',
  delayMs: 1_000,
  maxDelayMs: 60 * 60 * 1_000,
  jitter: 0.2,
}

/**
 * Delay before attempt `attempt + 1`, after attempt number `attempt` (1-based) failed.
 * Exponential doubles from `delayMs`; jitter takes up to that fraction off, so a
 * burst of failures does not come back as a burst of retries.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base =
    policy.type === 'fixed'
      ? policy.delayMs
      : Math.min(policy.maxDelayMs, policy.delayMs * 2 ** Math.max(0, attempt - 1))
  const capped = Math.min(base, policy.maxDelayMs)
  const jittered = capped * (1 - policy.jitter * random())
  return Math.max(0, Math.round(jittered))
}

export interface FailureDecision {
  status: Extract<JobStatus, 'scheduled' | 'failed'>
  runAt: Date | null
}

/**
 * What happens to an active job whose attempt failed: another attempt after a
 * backoff, or final failure. `retryInMs` (a RetryAfterError, a remote
 * worker's `fail { retryInMs }`, a worker's backoff function) replaces the
 * backoff for this retry; it never adds an attempt.
 */
export function decideFailure(
  job: Pick<Job, 'attempts' | 'maxAttempts' | 'backoff'>,
  retryable: boolean,
  now: Date,
  random: () => number = Math.random,
  retryInMs?: number,
): FailureDecision {
  if (!retryable || job.attempts >= job.maxAttempts) return { status: 'failed', runAt: null }
  const delay = retryInMs ?? backoffDelay(job.backoff, job.attempts, random)
  return { status: 'scheduled', runAt: new Date(now.getTime() + delay) }
}

/** A lease ran out: the attempt counts, and the job goes back to the queue unless it has none left. */
export function decideExpiry(
  job: Pick<Job, 'attempts' | 'maxAttempts'>,
): Extract<JobStatus, 'waiting' | 'failed'> {
  return job.attempts >= job.maxAttempts ? 'failed' : 'waiting'
}
