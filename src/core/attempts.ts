/**
 * Every attempt a job made, kept: who ran it, when, how it ended and with
 * which error. A claim opens an attempt (`running`); whatever ends the lease
 * closes it with its outcome. Drivers write both in the same statement or
 * transaction as the change itself, and read the bounds here, so a poison job
 * retried forever does not grow without limit.
 */
import { fingerprintError } from './fingerprint.js'
import type { JobError } from './types.js'

export const ATTEMPT_OUTCOMES = [
  /** Still running under its lease. */
  'running',
  /** The handler returned; the job is completed. */
  'completed',
  /** The handler failed (the job is retried or failed, as its status says). */
  'failed',
  /** The lease ran out before the attempt finished (the worker stopped heartbeating). */
  'lease-expired',
  /** The worker handed the job back (shutdown, deregistration); the attempt was not counted. */
  'released',
  /** The handler asked to run again later; the attempt was not counted. */
  'snoozed',
  /** The job was cancelled while it ran. */
  'cancelled',
  /** The job was not started before its expiry; no worker ran it. */
  'expired',
] as const
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number]

/** The error an attempt ended with, as the handler (or Docket, for a lease that ran out) gave it. */
export interface AttemptError {
  name: string | null
  message: string
  /** Kept for the newest ATTEMPT_STACKS_KEPT attempts only. */
  stack: string | null
  /** The error's class (core/fingerprint.ts). */
  fingerprint: string
  /** Whatever JSON the failure carried (a remote worker's `error.data`); null when none. */
  data: unknown
}

export interface Attempt {
  /** The job's attempt count when it started: 1 for the first. A released or snoozed attempt's number is used again. */
  attempt: number
  /** The worker that ran it; null for an expiry, which no worker ran. */
  workerId: string | null
  startedAt: Date | null
  finishedAt: Date | null
  outcome: AttemptOutcome
  error: AttemptError | null
}

/** Stacks are kept for this many of a job's newest attempts; older ones keep their name and message. */
export const ATTEMPT_STACKS_KEPT = 25
/** A job keeps at most this many attempts (snoozes and releases included), the oldest dropped first. */
export const ATTEMPTS_KEPT = 500

/** The attempt record of a failure. */
export function attemptError(
  error: Pick<JobError, 'name' | 'message' | 'stack'> & { data?: unknown; fingerprint?: string },
): AttemptError {
  // A job's error already has its fingerprint: the attempt's is the same.
  const fingerprint = error.fingerprint ?? fingerprintError(error).fingerprint
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    fingerprint,
    data: error.data ?? null,
  }
}

/**
 * A job's error as it is stored: the failure, its class (core/fingerprint.ts), the attempt and when.
 * `classMessage`: the message to fingerprint instead, when Docket wrote the message and knows which
 * of its parts vary (a worker's id).
 */
export function jobError(
  failure: Pick<JobError, 'name' | 'message' | 'stack' | 'retryable'>,
  attempt: number,
  at: Date,
  classMessage: string = failure.message,
): JobError {
  const { name, message, stack, retryable } = failure
  const { fingerprint } = fingerprintError({ name, message: classMessage, stack })
  return { message, name, stack, fingerprint, attempt, at, retryable }
}

/**
 * After an attempt numbered `seq` (a job's attempts in order, 1-based, every
 * row counted) closed: rows up to `stripStacksThrough` lose their stack,
 * rows up to `deleteThrough` are dropped. Null where there is nothing to do.
 */
export function attemptBounds(seq: number): {
  stripStacksThrough: number | null
  deleteThrough: number | null
} {
  const strip = seq - ATTEMPT_STACKS_KEPT
  const drop = seq - ATTEMPTS_KEPT
  return { stripStacksThrough: strip > 0 ? strip : null, deleteThrough: drop > 0 ? drop : null }
}
