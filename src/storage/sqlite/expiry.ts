/** The expiry sweep on SQLite (core/expiry.ts): jobs not started by their expiry end failed, as expired. */
import { decideJobExpiry, EXPIRABLE_STATUSES } from '../../core/expiry.js'
import { encodeError } from '../rows.js'
import { statusList } from '../sql.js'
import type { LeaderTerm } from '../store.js'
import { recordAttempt } from './attempts.js'
import type { SqliteContext } from './db.js'
import { onFailedForGood } from './dependencies.js'
import { insertEvent } from './events.js'
import { assertTerm } from './leadership.js'

type Row = { id: string; queue: string; attempts: number; expires_at: number; has_dependents: number }

export function expireJobs(ctx: SqliteContext, fence?: LeaderTerm): number {
  return ctx.tx(() => {
    const now = ctx.now()
    assertTerm(ctx, fence, now)
    const rows = ctx
      .stmt(
        `SELECT id, queue, attempts, expires_at, has_dependents FROM jobs INDEXED BY jobs_expiring
         WHERE expires_at IS NOT NULL AND expires_at <= ? AND status IN ${statusList(EXPIRABLE_STATUSES)}
         ORDER BY expires_at LIMIT 1000`,
      )
      .all(now) as Row[]
    for (const row of rows) {
      const d = decideJobExpiry(
        { attempts: Number(row.attempts), expiresAt: new Date(Number(row.expires_at)) },
        new Date(now),
      )
      ctx
        .stmt(
          `UPDATE jobs SET status = ?, finished_at = ?, last_error = ?, error_count = error_count + 1
           WHERE id = ?`,
        )
        .run(d.status, now, encodeError(d.error), row.id)
      insertEvent(ctx, {
        jobId: row.id,
        queue: row.queue,
        kind: 'state',
        status: d.status,
        message: d.error.message,
        at: now,
      })
      recordAttempt(ctx, row.id, d.attempt, 'expired', d.attemptError, now)
      if (row.has_dependents) onFailedForGood(ctx, row.id, 'expired', now)
    }
    return rows.length
  })
}
