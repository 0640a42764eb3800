/**
 * Everything a worker does under a lease, on PostgreSQL. Every write is
 * fenced in its WHERE clause by the lease token, the active status and the
 * lease's expiry (by the database clock), so a worker that lost its lease
 * changes nothing; `whyNot` then finds out why (core/leases.ts).
 */
import { decideExpiry, decideFailure } from '../../core/backoff.js'
import { leaseLost } from '../../core/errors.js'
import { type LeaseLostReason, leaseLostReason } from '../../core/leases.js'
import type { ClaimedJob, Job, JobError } from '../../core/types.js'
import { encodeError, rowToJob } from '../rows.js'
import type {
  ClaimParams,
  CompleteParams,
  EventParams,
  FailParams,
  LeaderTerm,
  LeaseOutcome,
  LeaseRef,
  ProgressParams,
} from '../store.js'
import { decode, type PgContext, type Queryable } from './db.js'
import { failDependents } from './dependencies.js'
import { insertStateEvents } from './events.js'
import { assertTerm } from './leadership.js'

const HELD = `status = 'active' AND lease_token = $2::uuid AND lease_expires_at > now()`

export async function claimJobs(ctx: PgContext, p: ClaimParams): Promise<ClaimedJob[]> {
  const rows = await ctx.query('SELECT * FROM claim_jobs($1, $2, $3, $4, $5)', [
    p.workerId,
    p.queues,
    p.capabilities,
    p.limit,
    p.leaseMs,
  ])
  return rows.map((r) => rowToJob(r, decode) as ClaimedJob)
}

/** Outcomes for refs whose write matched nothing: why each lease is no longer held. */
async function whyNot(c: Queryable, refs: LeaseRef[], done: Set<string>): Promise<LeaseOutcome[]> {
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
    if (done.has(r.id)) return { id: r.id, ok: true }
    return { id: r.id, ok: false, code: 'LEASE_LOST', reason: lostReason(byId.get(r.id), r.token) }
  })
}

function lostReason(row: Record<string, unknown> | undefined, token: string): LeaseLostReason {
  if (!row) return leaseLostReason(null, token)
  return leaseLostReason(
    {
      status: row.status as Job['status'],
      attempts: Number(row.attempts),
      leaseToken: (row.lease_token as string | null) ?? null,
      endedToken: (row.lease_ended_token as string | null) ?? null,
      endedReason: (row.lease_ended_reason as string | null) ?? null,
      endedAttempt: row.lease_ended_attempt == null ? null : Number(row.lease_ended_attempt),
    },
    token.toLowerCase(),
  )
}

function throwIfLost(outcome: LeaseOutcome): void {
  if (!outcome.ok) throw leaseLost(outcome.id, outcome.reason)
}

/** The columns that remember the lease a statement ends, and how it ended. */
const endLease = (reason: string) =>
  `lease_ended_token = lease_token, lease_ended_reason = '${reason}', lease_ended_attempt = attempts`

/** A malformed token can never match a lease; treat it as a lost lease rather than a database error. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const validTokens = <T extends LeaseRef>(refs: T[]) => refs.filter((r) => UUID.test(r.token))

export async function extendLeases(
  ctx: PgContext,
  refs: LeaseRef[],
  leaseMs: number,
): Promise<LeaseOutcome[]> {
  const valid = validTokens(refs)
  const rows = await ctx.query<{ id: string }>(
    `UPDATE jobs j SET lease_expires_at = now() + $3 * interval '1 millisecond'
     FROM unnest($1::uuid[], $2::uuid[]) AS t(id, token)
     WHERE j.id = t.id AND j.lease_token = t.token AND j.status = 'active' AND j.lease_expires_at > now()
     RETURNING j.id`,
    [valid.map((r) => r.id), valid.map((r) => r.token), leaseMs],
  )
  return whyNot(ctx, refs, new Set(rows.map((r) => r.id)))
}

export async function reportProgress(ctx: PgContext, p: ProgressParams): Promise<void> {
  const rows = validTokens([p]).length
    ? await ctx.query(
        `WITH upd AS (
           UPDATE jobs SET progress_percent = coalesce($3, progress_percent),
             progress_step = CASE WHEN $4 THEN $5 ELSE progress_step END,
             progress_message = CASE WHEN $6 THEN $7 ELSE progress_message END
           WHERE id = $1 AND ${HELD}
           RETURNING id, queue, worker_id, progress_percent, progress_step, progress_message
         )
         INSERT INTO events (job_id, queue, worker_id, kind, step, percent, message)
         SELECT id, queue, worker_id, 'progress', progress_step, progress_percent, progress_message FROM upd
         RETURNING job_id`,
        [
          p.id,
          p.token,
          p.percent ?? null,
          p.step !== undefined,
          p.step ?? null,
          p.message !== undefined,
          p.message ?? null,
        ],
      )
    : []
  if (rows.length === 0) throwIfLost((await whyNot(ctx, [p], new Set()))[0]!)
}

export async function appendEvent(ctx: PgContext, p: EventParams): Promise<void> {
  const rows = validTokens([p]).length
    ? await ctx.query(
        `WITH held AS (
           -- A new step: the message reported during the previous one no longer applies.
           UPDATE jobs SET progress_step = CASE WHEN $3 = 'step.started' AND $4::text IS NOT NULL THEN $4 ELSE progress_step END,
             progress_message = CASE WHEN $3 = 'step.started' AND $4::text IS NOT NULL THEN NULL ELSE progress_message END
           WHERE id = $1 AND ${HELD} RETURNING id, queue, worker_id
         )
         INSERT INTO events (job_id, queue, worker_id, kind, step, percent, message, data)
         SELECT id, queue, worker_id, $3, $4, $5, $6, $7::jsonb FROM held RETURNING job_id`,
        [
          p.id,
          p.token,
          p.kind,
          p.step ?? null,
          p.percent ?? null,
          p.message ?? null,
          p.data === undefined || p.data === null ? null : JSON.stringify(p.data),
        ],
      )
    : []
  if (rows.length === 0) throwIfLost((await whyNot(ctx, [p], new Set()))[0]!)
}

export async function completeJobs(ctx: PgContext, params: CompleteParams[]): Promise<LeaseOutcome[]> {
  const valid = validTokens(params)
  const rows = await ctx.query<{ id: string }>(
    'SELECT complete_jobs($1::uuid[], $2::uuid[], $3::jsonb[]) AS id',
    [valid.map((p) => p.id), valid.map((p) => p.token), valid.map((p) => JSON.stringify(p.result ?? null))],
  )
  return whyNot(ctx, params, new Set(rows.map((r) => r.id)))
}

export async function failJob(ctx: PgContext, p: FailParams): Promise<Job> {
  return ctx.tx(async (c) => {
    const [row] = validTokens([p]).length
      ? await c.query(`SELECT *, now() AS db_now FROM jobs WHERE id = $1 AND ${HELD} FOR UPDATE`, [
          p.id,
          p.token,
        ])
      : []
    if (!row) {
      throwIfLost((await whyNot(c, [p], new Set()))[0]!)
      throw leaseLost(p.id, 'deleted')
    }
    const now = row.db_now as Date
    const job = rowToJob(row, decode)
    const decision = decideFailure(job, p.error.retryable, now)
    const error: JobError = { ...p.error, attempt: job.attempts, at: now }
    const [updated] = await c.query(
      `UPDATE jobs SET status = $2, run_at = coalesce($3, run_at), finished_at = $4,
         duration_ms = (extract(epoch FROM now() - started_at) * 1000)::bigint,
         last_error = $5, error_count = error_count + 1, ${endLease('failed')},
         lease_token = NULL, lease_expires_at = NULL
       WHERE id = $1 RETURNING *`,
      [p.id, decision.status, decision.runAt, decision.status === 'failed' ? now : null, encodeError(error)],
    )
    await insertStateEvents(c, [
      { id: p.id, queue: job.queue, status: decision.status, workerId: job.lease?.workerId },
    ])
    if (decision.status === 'failed' && row.has_dependents) await failDependents(c, p.id, 'failed')
    return rowToJob(updated!, decode)
  })
}

/** Ids among `refs` whose lease is no longer held: one read, the common case when all hold. */
async function lostLeases(ctx: PgContext, refs: LeaseRef[]): Promise<string[]> {
  if (refs.length === 0) return []
  const valid = validTokens(refs)
  const held = await ctx.query<{ id: string }>(
    `SELECT j.id FROM jobs j JOIN unnest($1::uuid[], $2::uuid[]) AS t(id, token)
       ON j.id = t.id AND j.lease_token = t.token
     WHERE j.status = 'active' AND j.lease_expires_at > now()`,
    [valid.map((r) => r.id), valid.map((r) => r.token)],
  )
  const ok = new Set(held.map((r) => r.id))
  return refs.filter((r) => !ok.has(r.id)).map((r) => r.id)
}

export async function checkLeases(ctx: PgContext, refs: LeaseRef[]): Promise<LeaseOutcome[]> {
  const lost = new Set(await lostLeases(ctx, refs))
  return whyNot(ctx, refs, new Set(refs.filter((r) => !lost.has(r.id)).map((r) => r.id)))
}

export async function releaseJobs(ctx: PgContext, refs: LeaseRef[]): Promise<LeaseOutcome[]> {
  const valid = validTokens(refs)
  const rows = await ctx.query<{ id: string }>(
    `WITH released AS (
       -- run_at is kept: a released job takes its old place in the queue, not the back of it.
       UPDATE jobs j SET status = 'waiting', attempts = j.attempts - 1, ${RELEASE_LEASE},
         lease_token = NULL, lease_expires_at = NULL
       FROM unnest($1::uuid[], $2::uuid[]) AS t(id, token)
       WHERE j.id = t.id AND j.lease_token = t.token AND j.status = 'active' AND j.lease_expires_at > now()
       RETURNING j.id, j.queue, j.worker_id
     ), ev AS (
       INSERT INTO events (job_id, queue, worker_id, kind, status)
       SELECT id, queue, worker_id, 'state', 'waiting' FROM released
     )
     SELECT id FROM released`,
    [valid.map((r) => r.id), valid.map((r) => r.token)],
  )
  return whyNot(ctx, refs, new Set(rows.map((r) => r.id)))
}

/**
 * What a release records: the attempt is given back before the lease's end
 * is recorded, so the next claim counts as a later lease.
 */
export const RELEASE_LEASE = `lease_ended_token = j.lease_token, lease_ended_reason = 'released',
  lease_ended_attempt = j.attempts - 1`

export async function recoverExpiredLeases(ctx: PgContext, fence?: LeaderTerm): Promise<number> {
  return ctx.tx(async (c) => {
    await assertTerm(c, fence)
    const rows = await c.query(
      `SELECT *, now() AS db_now FROM jobs WHERE status = 'active' AND lease_expires_at <= now()
       ORDER BY lease_expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED`,
    )
    if (rows.length === 0) return 0
    const decided = rows.map((row) => {
      const job = rowToJob(row, decode)
      const now = row.db_now as Date
      const error: JobError = {
        message: `lease expired: worker ${String(row.worker_id)} stopped heartbeating`,
        name: 'LeaseExpired',
        stack: null,
        attempt: job.attempts,
        at: now,
        retryable: true,
      }
      return {
        job,
        status: decideExpiry(job),
        error: encodeError(error),
        hasDependents: Boolean(row.has_dependents),
      }
    })
    await c.query(
      // run_at is kept: an interrupted job takes its old place in the queue, not the back of it.
      `UPDATE jobs j SET status = t.status,
         finished_at = CASE WHEN t.status = 'failed' THEN now() END,
         last_error = t.error::jsonb, error_count = j.error_count + 1,
         lease_ended_token = j.lease_token, lease_ended_reason = 'expired', lease_ended_attempt = j.attempts,
         lease_token = NULL, lease_expires_at = NULL
       FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, status, error) WHERE j.id = t.id`,
      [decided.map((d) => d.job.id), decided.map((d) => d.status), decided.map((d) => d.error)],
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
    )
    for (const d of decided) {
      if (d.status === 'failed' && d.hasDependents) await failDependents(c, d.job.id, 'failed')
    }
    return rows.length
  })
}
