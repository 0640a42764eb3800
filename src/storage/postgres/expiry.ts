/** The expiry sweep on PostgreSQL (core/expiry.ts): jobs not started by their expiry end failed, as expired. */
import { decideJobExpiry, EXPIRABLE_STATUSES } from '../../core/expiry.js'
import { encodeError } from '../rows.js'
import { statusList } from '../sql.js'
import type { LeaderTerm } from '../store.js'
import { recordAttempts } from './attempts.js'
import { NOW } from './clock.js'
import type { PgContext } from './db.js'
import { failDependents } from './dependencies.js'
import { assertTerm } from './leadership.js'

export async function expireJobs(ctx: PgContext, fence?: LeaderTerm): Promise<number> {
  return ctx.tx(async (c) => {
    await assertTerm(c, fence, ctx.clockNow())
    const rows = await c.query<{
      id: string
      queue: string
      attempts: number
      expires_at: Date
      has_dependents: boolean
      db_now: Date
    }>(
      `SELECT id, queue, attempts, expires_at, has_dependents, ${NOW(1)} AS db_now FROM jobs
       WHERE expires_at IS NOT NULL AND expires_at <= ${NOW(1)} AND status IN ${statusList(EXPIRABLE_STATUSES)}
       ORDER BY expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED`,
      [ctx.clockNow()],
    )
    if (rows.length === 0) return 0
    const now = rows[0]!.db_now
    const decided = rows.map((r) => ({
      row: r,
      ...decideJobExpiry({ attempts: Number(r.attempts), expiresAt: r.expires_at }, now),
    }))
    await c.query(
      `UPDATE jobs j SET status = t.status, finished_at = $4, last_error = t.error::jsonb,
         error_count = j.error_count + 1
       FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, status, error) WHERE j.id = t.id`,
      [
        decided.map((d) => d.row.id),
        decided.map((d) => d.status),
        decided.map((d) => encodeError(d.error)),
        now,
      ],
    )
    await c.query(
      `INSERT INTO events (job_id, queue, kind, status, message, at)
       SELECT t.id, t.queue, 'state', t.status, t.message, $5::timestamptz
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS t(id, queue, status, message)`,
      [
        decided.map((d) => d.row.id),
        decided.map((d) => d.row.queue),
        decided.map((d) => d.status),
        decided.map((d) => d.error.message),
        now,
      ],
    )
    await recordAttempts(
      c,
      decided.map((d) => ({ id: d.row.id, attempt: d.attempt, error: d.attemptError })),
      'expired',
      now,
    )
    for (const d of decided) {
      if (d.row.has_dependents) await failDependents(c, d.row.id, 'expired', now)
    }
    return rows.length
  })
}
