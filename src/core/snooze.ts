/**
 * "Run again later" from inside an attempt. A snooze gives the lease back
 * without spending the attempt (Oban's `{:snooze, s}`); a retry-after fails
 * the attempt but replaces the backoff for this one retry (BullMQ's
 * DelayedError, an HTTP 429's Retry-After). Both are decided here, once.
 */
import { checkBound, durationMs, MAX_DURATION_MS } from './bounds.js'
import type { JobStatus } from './types.js'

/** The longest a snooze or a retry-after may wait: ten years, like every other duration (core/bounds.ts). */
export const MAX_DELAY_MS = MAX_DURATION_MS

/** INVALID_ARGUMENT naming `field` unless `ms` is a duration (a whole number of milliseconds from 0 to MAX_DELAY_MS). */
export function checkDelay(ms: unknown, field: string): number {
  return checkBound(durationMs, ms, field)
}

/** Where a snoozed job goes: back to waiting at once, or scheduled for `now + delayMs`. */
export function decideSnooze(
  now: Date,
  delayMs: number,
): { status: Extract<JobStatus, 'waiting' | 'scheduled'>; runAt: Date } {
  return { status: delayMs > 0 ? 'scheduled' : 'waiting', runAt: new Date(now.getTime() + delayMs) }
}

/** The message of a snooze's state event. */
export const snoozeMessage = (delayMs: number) => `snoozed for ${delayMs} ms; the attempt is not counted`
