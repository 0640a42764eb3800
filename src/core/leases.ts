/**
 * Why a lease is no longer held, for the worker that names it. Each job
 * remembers its current lease and the last one that ended (its token, how it
 * ended, and the job's attempt count then); that is enough to tell the
 * holder of either what happened. A token the job never had (or no longer
 * remembers) gets the answer a job that does not exist gets, so a lease call
 * never tells anyone without the token whether a job exists.
 *
 *   cancelled   the job was cancelled while this lease held it
 *   expired     the lease ran out (no heartbeat in time); nobody else has run the job since
 *   taken-over  the lease ended and the job has been claimed again since, by this or another worker
 *   released    the lease was handed back (a release, or the worker deregistered)
 *   snoozed     the handler snoozed the job under this lease (it runs again later)
 *   completed   the job was completed under this lease
 *   failed      this lease's attempt was failed
 *   deleted     the job does not exist (deleted, or never was), or this token never held it
 */
import { jobError } from './attempts.js'
import type { JobError, JobStatus } from './types.js'

export const LEASE_LOST_REASONS = [
  'cancelled',
  'expired',
  'taken-over',
  'released',
  'snoozed',
  'completed',
  'failed',
  'deleted',
] as const
export type LeaseLostReason = (typeof LEASE_LOST_REASONS)[number]

/** Per-job outcome of a lease operation (extend, complete, check, release): ok, or LEASE_LOST with why. */
export type LeaseOutcome =
  | { id: string; ok: true }
  | { id: string; ok: false; code: 'LEASE_LOST'; reason: LeaseLostReason }

export const leaseHeld = (id: string): LeaseOutcome => ({ id, ok: true })
export const leaseGone = (id: string, reason: LeaseLostReason): LeaseOutcome => ({
  id,
  ok: false,
  code: 'LEASE_LOST',
  reason,
})

/** How a lease can end, as recorded on the job. */
export type LeaseEnd = 'cancelled' | 'expired' | 'released' | 'snoozed' | 'completed' | 'failed'

/** What a job remembers about its leases. */
export interface LeaseMemory {
  status: JobStatus
  attempts: number
  leaseToken: string | null
  endedToken: string | null
  endedReason: string | null
  endedAttempt: number | null
}

/** Why `token` does not hold a live lease on the job (`null`: there is no such job). */
export function leaseLostReason(job: LeaseMemory | null, token: string): LeaseLostReason {
  if (job === null) return 'deleted'
  // Still the job's lease, but its time ran out and recovery has not run yet.
  if (job.status === 'active' && job.leaseToken === token) return 'expired'
  if (job.endedToken !== token) return 'deleted'
  // Every claim counts an attempt: more attempts now than when this lease ended means a later lease.
  if (job.attempts > (job.endedAttempt ?? 0)) return 'taken-over'
  return (LEASE_LOST_REASONS as readonly string[]).includes(job.endedReason ?? '')
    ? (job.endedReason as LeaseLostReason)
    : 'deleted'
}

const EXPLAINED: Record<LeaseLostReason, string> = {
  cancelled: 'the job was cancelled',
  expired: 'the lease expired before it was renewed',
  'taken-over': 'the lease ended and the job was claimed again since',
  released: 'the lease was released',
  snoozed: 'the job was snoozed under this lease',
  completed: 'the job was completed under this lease',
  failed: 'this attempt was failed',
  deleted: 'there is no such job, or this token never held it',
}

export const explainLeaseLost = (reason: LeaseLostReason): string => EXPLAINED[reason]

/** The error an attempt records when its lease ran out (or its worker was marked lost) before it finished. */
export function leaseExpiredError(workerId: string | null, attempt: number, at: Date): JobError {
  const message = `lease expired: worker ${workerId ?? 'unknown'} stopped heartbeating`
  // One class whichever worker it was.
  const classMessage = 'lease expired: worker <worker> stopped heartbeating'
  return jobError({ message, name: 'LeaseExpired', stack: null, retryable: true }, attempt, at, classMessage)
}
