/**
 * Everything a worker does under a lease: claim, extend, report, complete,
 * fail, release; and recovery of leases that ran out. Each write is fenced
 * by the lease token and the lease's expiry, so a worker that lost its
 * lease cannot touch the job any more.
 */
import { randomUUID } from 'node:crypto'
import { attemptError, jobError } from '../../core/attempts.js'
import { decideExpiry, decideFailure } from '../../core/backoff.js'
import { leaseLost } from '../../core/errors.js'
import {
  type LeaseLostReason,
  type LeaseOutcome,
  leaseExpiredError,
  leaseGone,
  leaseHeld,
  leaseLostReason,
} from '../../core/leases.js'
import { decideSnooze, snoozeMessage } from '../../core/snooze.js'
import type { ClaimedJob, Job, JobError } from '../../core/types.js'
import { encodeError, rowToClaimedJob, rowToJob, rowToLeaseMemory } from '../rows.js'
import type * as S from '../store.js'
import { closeAttempt, openAttempt } from './attempts.js'
import { decode, type SqliteContext } from './db.js'
import { onCompleted, onFailedForGood } from './dependencies.js'
import { insertEvent, insertStateEvent } from './events.js'
import { type GroupedQueue, hasGroupRules, pickGrouped, recordTurns } from './groups.js'
import { assertTerm, CLOCK_SKEW_TOLERANCE_MS, expiredAtOrBefore } from './leadership.js'
import { type RateLimited, rateRoom, recordStarts } from './rate-limits.js'

/** What the claim reads of a queue. */
type ClaimQueue = RateLimited & GroupedQueue & { status: string; concurrency: number | null }

type Row = Record<string, unknown>

const READY = `j.status IN ('waiting','scheduled') AND j.run_at <= @now AND j.queue = @queue
  AND (j.expires_at IS NULL OR j.expires_at > @now)
  AND (j.capabilities IS NULL OR NOT EXISTS (
    SELECT 1 FROM json_each(j.capabilities) c WHERE c.value NOT IN (SELECT value FROM json_each(@caps))))`
const CLAIM_ORDER = {
  priority: `SELECT j.id FROM jobs j INDEXED BY jobs_claim_priority WHERE ${READY}
             ORDER BY j.priority DESC, j.run_at, j.id LIMIT @limit`,
  fifo: `SELECT j.id FROM jobs j INDEXED BY jobs_claim_fifo WHERE ${READY} ORDER BY j.run_at, j.id LIMIT @limit`,
}

/** The claim. PostgreSQL twin: src/storage/postgres/functions/claim_jobs.sql. */
export function claimJobs(ctx: SqliteContext, p: S.ClaimParams): ClaimedJob[] {
  return ctx.tx(() => {
    const now = ctx.now()
    const claimed: ClaimedJob[] = []
    for (const name of p.queues) {
      const room = p.limit - claimed.length
      if (room <= 0) break
      const queue = ctx.stmt('SELECT * FROM queues WHERE name = ?').get(name) as ClaimQueue | undefined
      if (queue?.status !== 'active') continue
      let take = Math.min(room, rateRoom(ctx, queue, now))
      if (take <= 0) continue
      if (queue.concurrency !== null) {
        const { n } = ctx
          .stmt(`SELECT count(*) AS n FROM jobs WHERE queue = ? AND status = 'active'`)
          .get(name) as {
          n: number
        }
        take = Math.min(take, queue.concurrency - n)
        if (take <= 0) continue
      }
      const ids = hasGroupRules(queue)
        ? pickGrouped(ctx, queue, p.capabilities, take, now)
        : (
            ctx
              .stmt(CLAIM_ORDER[queue.ordering])
              .all({ now, queue: name, caps: JSON.stringify(p.capabilities), limit: take }) as {
              id: string
            }[]
          ).map((r) => r.id)
      const leased = ids.map((id) => leaseJob(ctx, id, p, now))
      claimed.push(...leased)
      const groups = leased.map((j) => j.group)
      recordStarts(ctx, queue, groups, now)
      recordTurns(ctx, queue, groups)
    }
    return claimed
  })
}

/** The lease write of every claim, in one place. PostgreSQL twin: src/storage/postgres/functions/lease_jobs.sql. */
function leaseJob(ctx: SqliteContext, id: string, p: S.ClaimParams, now: number): ClaimedJob {
  const row = ctx
    .stmt(
      `UPDATE jobs SET status = 'active', attempts = attempts + 1, worker_id = ?, lease_token = ?, locked_at = ?,
         lease_expires_at = ?, lease_ms = ?, lease_beats = 0, started_at = ?, progress_percent = 0,
         progress_step = NULL, progress_message = NULL
       WHERE id = ? RETURNING *`,
    )
    .get(p.workerId, randomUUID(), now, now + p.leaseMs, p.leaseMs, now, id) as Row
  ctx.own.granted(id, String(row.lease_token), p.leaseMs, ctx.elapsed())
  insertStateEvent(ctx, id, String(row.queue), 'active', now, p.workerId)
  openAttempt(ctx, id, Number(row.attempts), p.workerId, now)
  return rowToClaimedJob(row, decode)
}

/** The worker a job row is (or was last) leased to. */
const workerOf = (row: Row): string | null => (row.worker_id as string | null) ?? null

/**
 * Whether the lease `ref` names still holds for its holder at `now`: by the wall clock that wrote
 * its expiry, or, if this process granted or extended it, by this process's elapsed time since
 * (so a clock stepped past the expiry does not end a lease that is being kept; core/lease-watch.ts).
 */
const holdsAt = (ctx: SqliteContext, ref: S.LeaseRef, expiresAt: number, now: number): boolean =>
  expiresAt > now || ctx.own.holds(ref.id, ref.token, ctx.elapsed())

/** The row, if `ref` still holds a live lease on it; otherwise why it does not. */
function leasedRow(ctx: SqliteContext, ref: S.LeaseRef, now: number): Row | LeaseLostReason {
  const row = ctx.stmt('SELECT * FROM jobs WHERE id = ?').get(ref.id) as Row | undefined
  if (
    row &&
    row.status === 'active' &&
    row.lease_token === ref.token &&
    holdsAt(ctx, ref, Number(row.lease_expires_at), now)
  ) {
    return row
  }
  return leaseLostReason(row ? rowToLeaseMemory(row) : null, ref.token)
}

/** The outcome of a lease operation on `ref`: held (and `write` done), or why not. */
function underLease(
  ctx: SqliteContext,
  ref: S.LeaseRef,
  now: number,
  write?: (row: Row) => void,
): LeaseOutcome {
  const row = leasedRow(ctx, ref, now)
  if (typeof row === 'string') return leaseGone(ref.id, row)
  write?.(row)
  return leaseHeld(ref.id)
}

/** The columns that remember the lease a statement ends, and how it ended; `?` is the reason. */
export const END_LEASE = `lease_ended_token = lease_token, lease_ended_reason = ?, lease_ended_attempt = attempts`

function requireLease(ctx: SqliteContext, ref: S.LeaseRef, now: number): Row {
  const row = leasedRow(ctx, ref, now)
  if (typeof row === 'string') throw leaseLost(ref.id, row)
  return row
}

export function extendLeases(ctx: SqliteContext, refs: S.LeaseRef[], leaseMs: number): LeaseOutcome[] {
  return ctx.tx(() => {
    const now = ctx.now()
    return refs.map((ref) =>
      underLease(ctx, ref, now, () => {
        // One more beat: whoever watches the lease sees it change, whatever the clocks say.
        ctx
          .stmt(
            'UPDATE jobs SET lease_expires_at = ?, lease_ms = ?, lease_beats = lease_beats + 1 WHERE id = ?',
          )
          .run(now + leaseMs, leaseMs, ref.id)
        ctx.own.granted(ref.id, ref.token, leaseMs, ctx.elapsed())
      }),
    )
  })
}

export function reportProgress(ctx: SqliteContext, p: S.ProgressParams): void {
  ctx.tx(() => {
    const now = ctx.now()
    const row = requireLease(ctx, p, now)
    const percent = p.percent ?? Number(row.progress_percent)
    const step = p.step !== undefined ? p.step : (row.progress_step as string | null)
    const message = p.message !== undefined ? p.message : (row.progress_message as string | null)
    ctx
      .stmt('UPDATE jobs SET progress_percent = ?, progress_step = ?, progress_message = ? WHERE id = ?')
      .run(percent, step, message, p.id)
    insertEvent(ctx, {
      jobId: p.id,
      queue: String(row.queue),
      workerId: workerOf(row),
      kind: 'progress',
      step,
      percent,
      message,
      at: now,
    })
  })
}

export function appendEvent(ctx: SqliteContext, p: S.EventParams): void {
  ctx.tx(() => {
    const now = ctx.now()
    const row = requireLease(ctx, p, now)
    insertEvent(ctx, { ...p, jobId: p.id, queue: String(row.queue), workerId: workerOf(row), at: now })
    if (p.kind === 'step.started' && p.step) {
      // A new step: the message reported during the previous one no longer applies.
      ctx.stmt('UPDATE jobs SET progress_step = ?, progress_message = NULL WHERE id = ?').run(p.step, p.id)
    }
  })
}

/** PostgreSQL twin: src/storage/postgres/functions/complete_jobs.sql. */
export function completeJobs(ctx: SqliteContext, params: S.CompleteParams[]): LeaseOutcome[] {
  return ctx.tx(() => {
    const now = ctx.now()
    return params.map((p): LeaseOutcome => {
      // The fence is in the UPDATE itself: one statement per job on the hot path,
      // and the reason is looked up only when the lease no longer holds.
      const row = ctx
        .stmt(
          `UPDATE jobs SET status = 'completed', result = ?, finished_at = ?, duration_ms = ? - started_at,
             progress_percent = 100, ${END_LEASE}, lease_token = NULL, lease_expires_at = NULL
           WHERE id = ? AND status = 'active' AND lease_token = ? AND (lease_expires_at > ? OR ?)
           RETURNING queue, has_dependents, worker_id`,
        )
        .get(
          JSON.stringify(p.result ?? null),
          now,
          now,
          'completed',
          p.id,
          p.token,
          now,
          ctx.own.holds(p.id, p.token, ctx.elapsed()) ? 1 : 0,
        ) as Row | undefined
      if (!row) {
        const reason = leasedRow(ctx, p, now)
        return leaseGone(p.id, typeof reason === 'string' ? reason : 'deleted')
      }
      ctx.own.ended(p.id)
      insertStateEvent(ctx, p.id, String(row.queue), 'completed', now, workerOf(row))
      closeAttempt(ctx, p.id, 'completed', null, now)
      if (row.has_dependents) onCompleted(ctx, p.id, now)
      return leaseHeld(p.id)
    })
  })
}

export function failJob(ctx: SqliteContext, p: S.FailParams): Job {
  return ctx.tx(() => {
    const now = ctx.now()
    const row = requireLease(ctx, p, now)
    const job = rowToJob(row, decode)
    const decision = decideFailure(job, p.error.retryable, new Date(now), Math.random, p.retryInMs)
    const { data: _data, ...failure } = p.error
    const error: JobError = jobError(failure, job.attempts, new Date(now))
    const updated = ctx
      .stmt(
        `UPDATE jobs SET status = ?, run_at = coalesce(?, run_at), finished_at = ?, duration_ms = ? - started_at,
           last_error = ?, error_count = error_count + 1, ${END_LEASE}, lease_token = NULL, lease_expires_at = NULL
         WHERE id = ? RETURNING *`,
      )
      .get(
        decision.status,
        decision.runAt?.getTime() ?? null,
        decision.status === 'failed' ? now : null,
        now,
        encodeError(error),
        'failed',
        p.id,
      ) as Row
    ctx.own.ended(p.id)
    insertStateEvent(ctx, p.id, job.queue, decision.status, now, workerOf(row))
    closeAttempt(ctx, p.id, 'failed', attemptError(p.error), now)
    if (decision.status === 'failed' && row.has_dependents) onFailedForGood(ctx, p.id, 'failed', now)
    return rowToJob(updated, decode)
  })
}

export function snoozeJob(ctx: SqliteContext, p: S.SnoozeParams): Job {
  return ctx.tx(() => {
    const now = ctx.now()
    const row = requireLease(ctx, p, now)
    const decision = decideSnooze(new Date(now), p.delayMs)
    const updated = ctx
      .stmt(
        // The attempt is given back before the lease's end is recorded, as a release does.
        `UPDATE jobs SET status = ?, run_at = ?, attempts = attempts - 1, lease_ended_token = lease_token,
           lease_ended_reason = 'snoozed', lease_ended_attempt = attempts - 1, lease_token = NULL,
           lease_expires_at = NULL WHERE id = ? RETURNING *`,
      )
      .get(decision.status, decision.runAt.getTime(), p.id) as Row
    insertEvent(ctx, {
      jobId: p.id,
      queue: String(row.queue),
      workerId: workerOf(row),
      kind: 'state',
      status: decision.status,
      message: snoozeMessage(p.delayMs),
      at: now,
    })
    ctx.own.ended(p.id)
    closeAttempt(ctx, p.id, 'snoozed', null, now)
    if (decision.status === 'waiting') ctx.ready(String(row.queue))
    return rowToJob(updated, decode)
  })
}

export function checkLeases(ctx: SqliteContext, refs: S.LeaseRef[]): LeaseOutcome[] {
  const now = ctx.now()
  return refs.map((ref) => underLease(ctx, ref, now))
}

export function releaseJobs(ctx: SqliteContext, refs: S.LeaseRef[]): LeaseOutcome[] {
  return ctx.tx(() => {
    const now = ctx.now()
    return refs.map((ref) =>
      underLease(ctx, ref, now, (row) => releaseRow(ctx, ref.id, String(row.queue), now, workerOf(row))),
    )
  })
}

/** Gives an active job back: waiting, in its old place, the attempt not counted. `workerId` held it. */
export function releaseRow(
  ctx: SqliteContext,
  id: string,
  queue: string,
  now: number,
  workerId: string | null,
): void {
  ctx
    .stmt(
      // run_at is kept: a released job takes its old place in the queue, not the back of it.
      // The attempt is given back before the lease's end is recorded, so a later claim counts as a later lease.
      `UPDATE jobs SET status = 'waiting', attempts = attempts - 1, lease_ended_token = lease_token,
         lease_ended_reason = 'released', lease_ended_attempt = attempts - 1, lease_token = NULL,
         lease_expires_at = NULL WHERE id = ?`,
    )
    .run(id)
  ctx.own.ended(id)
  insertStateEvent(ctx, id, queue, 'waiting', now, workerId)
  closeAttempt(ctx, id, 'released', null, now)
  ctx.ready(queue)
}

/**
 * Active jobs whose lease ran out by this process's clock go back to waiting, or fail when out of
 * attempts. Explicitly asked (an operator, a test), the clock is taken as is; under a leader's
 * term (fenced), a lease another process's clock set counts as expired only
 * CLOCK_SKEW_TOLERANCE_MS later. The maintenance pass uses sweepExpiredLeases instead.
 */
export function recoverExpiredLeases(ctx: SqliteContext, fence?: S.LeaderTerm): number {
  return ctx.tx(() => {
    const now = ctx.now()
    assertTerm(ctx, fence, now)
    const rows = ctx
      .stmt(`SELECT * FROM jobs WHERE status = 'active' AND lease_expires_at <= ? LIMIT 1000`)
      .all(expiredAtOrBefore(now, fence)) as Row[]
    for (const row of rows) recoverRow(ctx, row, now)
    return rows.length
  })
}

/** What a watched lease looks like: it changes with every claim and heartbeat. */
const leaseState = (row: Row) => `${row.lease_token}/${row.lease_beats}/${row.lease_expires_at}`

/**
 * The maintenance pass's lease recovery, in every process, leader or not (core/lease-watch.ts): a
 * lease is recovered once this process has seen it unchanged, by its own elapsed time, for the
 * lease's length and CLOCK_SKEW_TOLERANCE_MS. No process's wall clock decides, so a process whose
 * clock runs ahead, or a clock stepped forward, never takes a lease that is being kept. The write
 * is fenced by the lease itself: the same token, beat count and expiry as seen. A lease written by
 * a Docket before migration 13 (no lease_ms) is judged by the wall clock with the tolerance, as
 * before. `nextInMs`: when the next watched lease would run out, for the pass to come back then.
 */
export function sweepExpiredLeases(ctx: SqliteContext): { recovered: number; nextInMs: number | null } {
  // Read outside the write transaction (WAL: no lock); each lease is read again inside it.
  const rows = ctx
    .stmt(
      `SELECT id, lease_token, lease_beats, lease_expires_at, lease_ms FROM jobs
       WHERE status = 'active' AND lease_token IS NOT NULL`,
    )
    .all() as Row[]
  const now = ctx.now()
  const watched = rows.filter((r) => r.lease_ms !== null)
  const { stale, nextInMs } = ctx.watch.observe(
    watched.map((r) => ({ id: String(r.id), state: leaseState(r), leaseMs: Number(r.lease_ms) })),
    ctx.elapsed(),
    CLOCK_SKEW_TOLERANCE_MS,
  )
  const states = new Map(stale.map((l) => [l.id, l.state]))
  for (const r of rows)
    if (r.lease_ms === null && Number(r.lease_expires_at) <= now - CLOCK_SKEW_TOLERANCE_MS)
      states.set(String(r.id), leaseState(r))
  if (states.size === 0) return { recovered: 0, nextInMs }
  const recovered = ctx.tx(() => {
    const at = ctx.now()
    let n = 0
    for (const [id, state] of states) {
      const row = ctx.stmt(`SELECT * FROM jobs WHERE id = ? AND status = 'active'`).get(id) as Row | undefined
      // Extended, ended or claimed again since the read: not this lease any more.
      if (!row || leaseState(row) !== state) continue
      recoverRow(ctx, row, at)
      n++
    }
    return n
  })
  return { recovered, nextInMs }
}

/** Recovers one active job whose lease ran out: back to waiting in its old place, or failed when out of attempts. */
function recoverRow(ctx: SqliteContext, row: Row, now: number): void {
  const job = rowToJob(row, decode)
  const status = decideExpiry(job)
  const error = leaseExpiredError(row.worker_id as string | null, job.attempts, new Date(now))
  ctx
    .stmt(
      // run_at is kept: an interrupted job takes its old place in the queue, not the back of it.
      `UPDATE jobs SET status = ?, finished_at = ?, last_error = ?, error_count = error_count + 1,
         ${END_LEASE}, lease_token = NULL, lease_expires_at = NULL WHERE id = ?`,
    )
    .run(status, status === 'failed' ? now : null, encodeError(error), 'expired', job.id)
  ctx.own.ended(job.id)
  insertStateEvent(ctx, job.id, job.queue, status, now, workerOf(row))
  closeAttempt(ctx, job.id, 'lease-expired', attemptError(error), now)
  if (status === 'failed' && row.has_dependents) onFailedForGood(ctx, job.id, 'failed', now)
}
