/**
 * What a queue's rate limit looks like right now, for people (the queue page,
 * GET /queues/{name}) and for remote workers told when to come back. The
 * driver counts the starts in the window; this says what they mean.
 */
import type { RateLimit } from './types.js'

export interface RateLimitUse {
  /** Starts in the current window (for a limit per group: the busiest group's). */
  used: number
  max: number
  intervalMs: number
  per?: 'group'
  /** No start is allowed until nextSlotAt (for a limit per group: the busiest group's). */
  full: boolean
  /** When the window has room again; null while it has room now. */
  nextSlotAt: Date | null
}

export function rateLimitUse(
  limit: RateLimit,
  counted: { used: number; waitMs: number | null },
  now: Date,
): RateLimitUse {
  // A lowered limit can leave more starts in the window than it now allows: full all the same.
  const full = counted.used >= limit.max
  return {
    used: counted.used,
    max: limit.max,
    intervalMs: limit.intervalMs,
    ...(limit.per ? { per: limit.per } : {}),
    full,
    nextSlotAt: full && counted.waitMs !== null ? new Date(now.getTime() + counted.waitMs) : null,
  }
}

/** Whole seconds for an HTTP Retry-After header, never 0 while a wait remains. */
export const retryAfterSeconds = (waitMs: number): number => Math.max(1, Math.ceil(waitMs / 1000))
