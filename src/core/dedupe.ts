/**
 * Dedupe modes: what adding a job whose dedupe key a live job of the same
 * queue and owner holds does.
 *
 *   keep      (the default) the live job is returned; the new payload is dropped
 *   replace   a live job that has not started takes the new payload and
 *             options, as if added anew (it keeps its id, its place and its
 *             dependencies); a running one keeps running, gives its key to the
 *             new job, and the new job waits for it to be final (`completion`)
 *   debounce  as replace, and the run time moves to now + delayMs (or runAt):
 *             a burst of adds runs once, after the burst; with
 *             `dedupeMaxWaitMs`, at most that long after the burst's first add
 *             (the live job's creation), so a steady stream of adds still runs
 *             (Inngest's debounce timeout)
 *
 * `dedupeTtlMs` also lets a job that finished less than that long ago hold
 * the key: an add within it returns that job (throttling), whatever the mode.
 */
import { resolveExpiry } from './expiry.js'
import type { NewJob } from './resolve.js'
import type { Job, JobStatus } from './types.js'

export const DEDUPE_MODES = ['keep', 'replace', 'debounce'] as const
export type DedupeMode = (typeof DEDUPE_MODES)[number]

/** What a replace or debounce writes onto the live job that has not started. */
export interface Replacement {
  id: string
  payload: unknown
  priority: number
  maxAttempts: number
  backoff: NewJob['backoff']
  timeoutMs: number | null
  capabilities: string[]
  estimatedDurationMs: number | null
  expiresAtMs: number | null
  runAtMs: number
  status: JobStatus
}

/** What the add does with a live job holding its key: return it, update it, or queue after it. */
export type DedupeOutcome =
  | { kind: 'keep' }
  | { kind: 'replace'; replacement: Replacement }
  | { kind: 'after'; runningId: string }

export function decideDedupe(job: NewJob, stored: Job, now: number, path = ''): DedupeOutcome {
  if (job.dedupeMode === 'keep') return { kind: 'keep' }
  if (stored.status === 'active') return { kind: 'after', runningId: stored.id }
  const given = job.runAt !== null ? job.runAt.getTime() : job.delayMs > 0 ? now + job.delayMs : null
  const runAtMs =
    job.dedupeMode === 'debounce'
      ? debouncedRunAt(job, given ?? now, stored.createdAt.getTime())
      : (given ?? stored.runAt.getTime())
  // Only a ready job's state follows its run time; blocked and held jobs wait for something else.
  const status: JobStatus =
    stored.status === 'waiting' || stored.status === 'scheduled'
      ? runAtMs > now
        ? 'scheduled'
        : 'waiting'
      : stored.status
  return {
    kind: 'replace',
    replacement: {
      id: stored.id,
      payload: job.payload,
      priority: job.priority,
      maxAttempts: job.maxAttempts,
      backoff: job.backoff,
      timeoutMs: job.timeoutMs,
      capabilities: job.capabilities,
      estimatedDurationMs: job.estimatedDurationMs,
      expiresAtMs: resolveExpiry(job, runAtMs, now, path),
      runAtMs,
      status,
    },
  }
}

/**
 * When a debounced job runs: `wanted` (now + delayMs, or runAt), but never
 * later than `dedupeMaxWaitMs` after the burst's first add at `burstStartMs`
 * (for the add that starts a burst, its own time).
 */
export function debouncedRunAt(
  job: Pick<NewJob, 'dedupeMaxWaitMs'>,
  wanted: number,
  burstStartMs: number,
): number {
  return job.dedupeMaxWaitMs === null ? wanted : Math.min(wanted, burstStartMs + job.dedupeMaxWaitMs)
}

/** The message of the event a replaced job records. */
export const replacedMessage = (mode: DedupeMode) =>
  mode === 'debounce'
    ? 'debounced: replaced by a later add with its dedupe key'
    : 'replaced by a later add with its dedupe key'
