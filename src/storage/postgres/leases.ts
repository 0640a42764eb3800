/**
 * Everything a worker does under a lease, on PostgreSQL. Every write is
 * fenced in its WHERE clause by the lease token, the active status and the
 * lease's expiry (by the database clock), so a worker that lost its lease
 * changes nothing; `whyNot` then finds out why (core/leases.ts).
 */
import { attemptError, jobError } from '../../core/attempts.js'
import { decideExpiry, decideFailure } from '../../core/backoff.js'
import { assertLeaseHeld, leaseLost } from '../../core/errors.js'
import {
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
import { closeAttempts } from './attempts.js'
import { NOW } from './clock.js'
import { decode, type PgContext, type Queryable } from './db.js'
import { failDependents } from './dependencies.js'
import { insertStateEvents } from './events.js'
import { assertTerm, boundIdle } from './leadership.js'

/** The fence of a write under a lease: still active, the same token ($2), not expired by the statement's clock ($n). */
const held = (now: number) =>
  `status = 'active' AND lease_token = $2::uuid AND lease_expires_at > ${NOW(now)}`

export async function claimJobs(ctx: PgContext, p: S.ClaimParams): Promise<ClaimedJob[]> {
  const rows = await ctx.query('SELECT * FROM claim_jobs($1, $2, $3, $4, $5, $6)', [
    p.workerId,
    p.queues,
    p.capabilities,
    p.limit,
    p.leaseMs,
    ctx.clockNow(),
  ])
  return rows.map((r) => rowToClaimedJob(r, decode))
}

/** Outcomes for refs whose write matched nothing: why each lease is no longer held. */
async function whyNot(c: Queryable, refs: S.LeaseRef[], done: Set<string>): Promise<LeaseOutcome[]> {
  const missed = refs.filter((r) => !done.has(r.id))
  const rows =
    missed.length === 0
      ? []
      : await c.query(
          `SELECT id, status, attempts, lease_token::text, lease_ended_token::text, lease_ended_reason,
             lease_ended_attempt FROM jobs WHERE id = ANY($1::uuid[])`,
          [missed.map((r) => r.id)],
        )
  const byId = new Map(rows.map((r) => [String(r.id), r]))
  return refs.map((r): LeaseOutcome => {
    if (done.has(r.id)) return leaseHeld(r.id)
    const row = byId.get(r.id)
    return leaseGone(r.id, leaseLostReason(row ? rowToLeaseMemory(row) : null, r.token.toLowerCase()))
  })
}

/**
 * The jobs of $1 (ids) whose lease $2 (tokens) still holds by the time $n, row-locked in id order.
 * Every statement that writes several leased jobs locks them so first: two that took the same rows
 * in different orders (a worker's heartbeat and its own batch of completions) would deadlock. The
 * lock comes before each row is handed on, so the statement's writes only ever touch rows locked
 * in this order; a row changed while the lock waited is checked again, and left out if the lease
 * no longer holds.
 */
export const LOCK_HELD = (n: number) =>
  `SELECT j.id FROM jobs j JOIN unnest($1::uuid[], $2::uuid[]) AS t(id, token) ON j.id = t.id AND j.lease_token = t.token
   WHERE j.status = 'active' AND j.lease_expires_at > ${NOW(n)}
   ORDER BY j.id FOR NO KEY UPDATE OF j`

/** The columns that remember the lease a statement ends, and how it ended. */
const endLease = (reason: string) =>
  `lease_ended_token = lease_token, lease_ended_reason = '${reason}', lease_ended_attempt = attempts`

/** A malformed token can never match a lease; treat it as a lost lease rather than a database error. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const validTokens = <T extends S.LeaseRef>(refs: T[]) => refs.filter((r) => UUID.test(r.token))

export async function extendLeases(
  ctx: PgContext,
  refs: S.LeaseRef[],
  leaseMs: number,
): Promise<LeaseOutcome[]> {
  const valid = validTokens(refs)
  const rows = await ctx.query<{ id: string }>(
    `WITH held AS (${LOCK_HELD(4)})
     UPDATE jobs j SET lease_expires_at = ${NOW(4)} + $3 * interval '1 millisecond'
     FROM held WHERE j.id = held.id
     RETURNING j.id`,
    [valid.map((r) => r.id), valid.map((r) => r.token), leaseMs, ctx.clockNow()],
  )
  return whyNot(ctx, refs, new Set(rows.map((r) => r.id)))
}

export async function reportProgress(ctx: PgContext, p: S.ProgressParams): Promise<void> {
  const rows = validTokens([p]).length
    ? await ctx.query(
        `WITH upd AS (
           UPDATE jobs SET progress_percent = coalesce($3, progress_percent),
             progress_step = CASE WHEN $4 THEN $5 ELSE progress_step END,
             progress_message = CASE WHEN $6 THEN $7 ELSE progress_message END
           WHERE id = $1 AND ${held(8)}
           RETURNING id, queue, worker_id, progress_percent, progress_step, progress_message
         )
         INSERT INTO events (job_id, queue, worker_id, kind, step, percent, message, at)
         SELECT id, queue, worker_id, 'progress', progress_step, progress_percent, progress_message, ${NOW(8)} FROM upd
         RETURNING job_id`,
        [
          p.id,
          p.token,
          p.percent ?? null,
          p.step !== undefined,
          p.step ?? null,
          p.message !== undefined,
          p.message ?? null,
          ctx.clockNow(),
        ],
      )
    : []
  if (rows.length === 0) assertLeaseHeld((await whyNot(ctx, [p], new Set()))[0]!)
}

export async function appendEvent(ctx: PgContext, p: S.EventParams): Promise<void> {
  const rows = validTokens([p]).length
    ? await ctx.query(
        `WITH held AS (
           -- A new step: the message reported during the previous one no longer applies.
           UPDATE jobs SET progress_step = CASE WHEN $3 = 'step.started' AND $4::text IS NOT NULL THEN $4 ELSE progress_step END,
             progress_message = CASE WHEN $3 = 'step.started' AND $4::text IS NOT NULL THEN NULL ELSE progress_message END
           WHERE id = $1 AND ${held(8)} RETURNING id, queue, worker_id
         )
         INSERT INTO events (job_id, queue, worker_id, kind, step, percent, message, data, at)
         SELECT id, queue, worker_id, $3, $4, $5, $6, $7::jsonb, ${NOW(8)} FROM held RETURNING job_id`,
        [
          p.id,
          p.token,
          p.kind,
          p.step ?? null,
          p.percent ?? null,
          p.message ?? null,
          p.data === undefined || p.data === null ? null : JSON.stringify(p.data),
          ctx.clockNow(),
        ],
      )
    : []
  if (rows.length === 0) assertLeaseHeld((await whyNot(ctx, [p], new Set()))[0]!)
}

export async function completeJobs(ctx: PgContext, params: S.CompleteParams[]): Promise<LeaseOutcome[]> {
  const valid = validTokens(params)
  const rows = await ctx.query<{ id: string }>(
    'SELECT complete_jobs($1::uuid[], $2::uuid[], $3::jsonb[], $4::timestamptz) AS id',
    [
      valid.map((p) => p.id),
      valid.map((p) => p.token),
      valid.map((p) => JSON.stringify(p.result ?? null)),
      ctx.clockNow(),
    ],
  )
  return whyNot(ctx, params, new Set(rows.map((r) => r.id)))
}

/**
 * The row of a job whose lease `p` holds, locked for the rest of the
 * transaction (with the statement's time as `db_now`); LEASE_LOST saying why
 * when the lease is not held.
 */
async function lockHeld(ctx: PgContext, c: Queryable, p: S.LeaseRef): Promise<Record<string, unknown>> {
  const [row] = validTokens([p]).length
    ? await c.query(`SELECT *, ${NOW(3)} AS db_now FROM jobs WHERE id = $1 AND ${held(3)} FOR UPDATE`, [
        p.id,
        p.token,
        ctx.clockNow(),
      ])
    : []
  if (row) return row
  assertLeaseHeld((await whyNot(c, [p], new Set()))[0]!)
  throw leaseLost(p.id, 'deleted')
}

export async function failJob(ctx: PgContext, p: S.FailParams): Promise<Job> {
  return ctx.tx(async (c) => {
    const row = await lockHeld(ctx, c, p)
    const now = row.db_now as Date
    const job = rowToJob(row, decode)
    const decision = decideFailure(job, p.error.retryable, now, Math.random, p.retryInMs)
    const { data: _data, ...failure } = p.error
    const error: JobError = jobError(failure, job.attempts, now)
    const [updated] = await c.query(
      `UPDATE jobs SET status = $2, run_at = coalesce($3, run_at), finished_at = $4,
         duration_ms = (extract(epoch FROM $6::timestamptz - started_at) * 1000)::bigint,
         last_error = $5, error_count = error_count + 1, ${endLease('failed')},
         lease_token = NULL, lease_expires_at = NULL
       WHERE id = $1 RETURNING *`,
      [
        p.id,
        decision.status,
        decision.runAt,
        decision.status === 'failed' ? now : null,
        encodeError(error),
        now,
      ],
    )
    await insertStateEvents(
      c,
      [{ id: p.id, queue: job.queue, status: decision.status, workerId: job.lease?.workerId }],
      now,
    )
    await closeAttempts(c, [p.id], 'failed', [attemptError(p.error)], now)
    if (decision.status === 'failed' && row.has_dependents) await failDependents(c, p.id, 'failed', now)
    return rowToJob(updated!, decode)
  })
}

export async function snoozeJob(ctx: PgContext, p: S.SnoozeParams): Promise<Job> {
  return ctx.tx(async (c) => {
    const row = await lockHeld(ctx, c, p)
    const now = row.db_now as Date
    const decision = decideSnooze(now, p.delayMs)
    const [updated] = await c.query(
      // The attempt is given back before the lease's end is recorded, as a release does.
      `UPDATE jobs j SET status = $2, run_at = $3, attempts = j.attempts - 1, lease_ended_token = j.lease_token,
         lease_ended_reason = 'snoozed', lease_ended_attempt = j.attempts - 1, lease_token = NULL, lease_expires_at = NULL
       WHERE id = $1 RETURNING *`,
      [p.id, decision.status, decision.runAt],
    )
    await c.query(
      `INSERT INTO events (job_id, queue, worker_id, kind, status, message, at) VALUES ($1, $2, $3, 'state', $4, $5, $6)`,
      [p.id, row.queue, row.worker_id, decision.status, snoozeMessage(p.delayMs), now],
    )
    await closeAttempts(c, [p.id], 'snoozed', null, now)
    if (decision.status === 'waiting')
      await c.query(`SELECT pg_notify('docket_ready_' || current_schema(), $1)`, [row.queue])
    return rowToJob(updated!, decode)
  })
}

/** Ids among `refs` whose lease is no longer held: one read, the common case when all hold. */
async function lostLeases(ctx: PgContext, refs: S.LeaseRef[]): Promise<string[]> {
  if (refs.length === 0) return []
  const valid = validTokens(refs)
  const rows = await ctx.query<{ id: string }>(
    `SELECT j.id FROM jobs j JOIN unnest($1::uuid[], $2::uuid[]) AS t(id, token)
       ON j.id = t.id AND j.lease_token = t.token
     WHERE j.status = 'active' AND j.lease_expires_at > ${NOW(3)}`,
    [valid.map((r) => r.id), valid.map((r) => r.token), ctx.clockNow()],
  )
  const ok = new Set(rows.map((r) => r.id))
  return refs.filter((r) => !ok.has(r.id)).map((r) => r.id)
}

export async function checkLeases(ctx: PgContext, refs: S.LeaseRef[]): Promise<LeaseOutcome[]> {
  const lost = new Set(await lostLeases(ctx, refs))
  return whyNot(ctx, refs, new Set(refs.filter((r) => !lost.has(r.id)).map((r) => r.id)))
}

export async function releaseJobs(ctx: PgContext, refs: S.LeaseRef[]): Promise<LeaseOutcome[]> {
  const valid = validTokens(refs)
  const rows = await ctx.query<{ id: string }>(
    `WITH held AS (${LOCK_HELD(3)}), released AS (
       -- run_at is kept: a released job takes its old place in the queue, not the back of it.
       UPDATE jobs j SET status = 'waiting', attempts = j.attempts - 1, ${RELEASE_LEASE},
         lease_token = NULL, lease_expires_at = NULL
       FROM held WHERE j.id = held.id
       RETURNING j.id, j.queue, j.worker_id
     ), ev AS (
       INSERT INTO events (job_id, queue, worker_id, kind, status, at)
       SELECT id, queue, worker_id, 'state', 'waiting', ${NOW(3)} FROM released
     ), att AS (${CLOSE_RELEASED(3)})
     SELECT id FROM released`,
    [valid.map((r) => r.id), valid.map((r) => r.token), ctx.clockNow()],
  )
  return whyNot(ctx, refs, new Set(rows.map((r) => r.id)))
}

/**
 * What a release records: the attempt is given back before the lease's end
 * is recorded, so the next claim counts as a later lease.
 */
/** Closes the attempts of the jobs in the CTE `released` (a release); `$n` is the statement's time. */
export const CLOSE_RELEASED = (n: number) =>
  `UPDATE job_attempts a SET finished_at = ${NOW(n)}, outcome = 'released'
   FROM released WHERE a.job_id = released.id AND a.finished_at IS NULL`

export const RELEASE_LEASE = `lease_ended_token = j.lease_token, lease_ended_reason = 'released',
  lease_ended_attempt = j.attempts - 1`

/**
 * A maintenance pass's lease recovery, in any process (Store.sweepExpiredLeases): one read when no
 * lease has run out, the common case, and the recovery's transaction only when one has.
 */
export async function sweepExpiredLeases(ctx: PgContext): Promise<number> {
  const [row] = await ctx.query<{ due: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM jobs WHERE status = 'active' AND lease_expires_at <= ${NOW(1)}) AS due`,
    [ctx.clockNow()],
  )
  return row?.due ? recoverExpiredLeases(ctx, 'sweep') : 0
}

/**
 * Active jobs whose lease ran out by the database's clock go back to waiting, or fail when out of
 * attempts. Under a leader's term (`fence`) only while that term is current; `'sweep'`: a
 * maintenance pass in any process, leader or not (sweepExpiredLeases), which needs no term, since
 * every row is locked and judged by the one clock in the same transaction.
 */
export async function recoverExpiredLeases(ctx: PgContext, fence?: S.LeaderTerm | 'sweep'): Promise<number> {
  return ctx.tx(async (c) => {
    if (fence === 'sweep') await boundIdle(c)
    else await assertTerm(c, fence, ctx.clockNow())
    const rows = await c.query(
      `SELECT *, ${NOW(1)} AS db_now FROM jobs WHERE status = 'active' AND lease_expires_at <= ${NOW(1)}
       ORDER BY lease_expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED`,
      [ctx.clockNow()],
    )
    if (rows.length === 0) return 0
    const now = rows[0]!.db_now as Date
    const decided = rows.map((row) => {
      const job = rowToJob(row, decode)
      const error: JobError = leaseExpiredError(row.worker_id as string | null, job.attempts, now)
      return {
        job,
        status: decideExpiry(job),
        error: encodeError(error),
        attemptError: attemptError(error),
        hasDependents: Boolean(row.has_dependents),
      }
    })
    await c.query(
      // run_at is kept: an interrupted job takes its old place in the queue, not the back of it.
      `UPDATE jobs j SET status = t.status,
         finished_at = CASE WHEN t.status = 'failed' THEN $4::timestamptz END,
         last_error = t.error::jsonb, error_count = j.error_count + 1,
         lease_ended_token = j.lease_token, lease_ended_reason = 'expired', lease_ended_attempt = j.attempts,
         lease_token = NULL, lease_expires_at = NULL
       FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, status, error) WHERE j.id = t.id`,
      [decided.map((d) => d.job.id), decided.map((d) => d.status), decided.map((d) => d.error), now],
    )
    await insertStateEvents(
      c,
      // The worker whose lease ran out.
      decided.map((d) => ({
        id: d.job.id,
        queue: d.job.queue,
        status: d.status,
        workerId: d.job.lease?.workerId,
      })),
      now,
    )
    await closeAttempts(
      c,
      decided.map((d) => d.job.id),
      'lease-expired',
      decided.map((d) => d.attemptError),
      now,
    )
    for (const d of decided) {
      if (d.status === 'failed' && d.hasDependents) await failDependents(c, d.job.id, 'failed', now)
    }
    return rows.length
  })
}
