/**
 * Expiry: work that is worthless late (a notification, a preview) says so
 * with `expiresAt` or `expiresInMs`. A job that has not started by then is
 * never run: a claim skips it, and the maintenance sweep ends it `failed` with
 * a JobExpired error, an `expired` attempt and a state event saying why. The
 * rules are here; both drivers apply them.
 */
import { type AttemptError, attemptError, jobError } from './attempts.js'
import { invalidArgument } from './errors.js'
import type { JobError, JobStatus } from './types.js'

/** The states an expiry ends: every live state but `active` (a started run is never cut short). */
export const EXPIRABLE_STATUSES: readonly JobStatus[] = ['waiting', 'scheduled', 'blocked', 'held']

/** The name of an expired job's error; statistics count jobs failed with it as expired. */
export const EXPIRED_ERROR_NAME = 'JobExpired'

/**
 * When a new job expires, in epoch ms (null: never). `expiresAt` must be in
 * the future and `expiresInMs` positive, and either must come after the job's
 * run-at time (it would expire before it could run): INVALID_ARGUMENT naming
 * the field otherwise.
 */
export function resolveExpiry(
  job: { expiresAt: Date | null; expiresInMs: number | null },
  runAtMs: number,
  now: number,
  path = '',
): number | null {
  const field = job.expiresAt !== null ? 'expiresAt' : 'expiresInMs'
  const at =
    job.expiresAt !== null ? job.expiresAt.getTime() : job.expiresInMs !== null ? now + job.expiresInMs : null
  if (at === null) return null
  const name = path ? `${path}.${field}` : field
  if (at <= now)
    throw invalidArgument(`${name} must be in the future`, [{ path: name, message: 'already passed' }])
  if (at <= runAtMs)
    throw invalidArgument(`${name} must come after the job's run-at time, or it could never run`, [
      { path: name, message: 'at or before runAt' },
    ])
  return at
}

/** Whether a job that has not started is past its expiry at `now`. */
export const isExpired = (expiresAtMs: number | null, now: number): boolean =>
  expiresAtMs !== null && expiresAtMs <= now

/**
 * What an expired job becomes: failed for good (retrying it would run it
 * late), with the error and the attempt record that say why. The attempt is
 * the one that would have run next, which no worker started.
 */
export function decideJobExpiry(
  job: { attempts: number; expiresAt: Date },
  now: Date,
): { status: Extract<JobStatus, 'failed'>; attempt: number; error: JobError; attemptError: AttemptError } {
  const message = `expired: not started before ${job.expiresAt.toISOString()}`
  const attempt = job.attempts + 1
  return {
    status: 'failed',
    attempt,
    error: jobError({ name: EXPIRED_ERROR_NAME, message, stack: null, retryable: false }, attempt, now),
    attemptError: attemptError({ name: EXPIRED_ERROR_NAME, message, stack: null }),
  }
}
