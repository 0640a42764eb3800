/**
 * Queue rate limits on PostgreSQL: the claim function (claim_jobs, migration
 * 0010) counts and records starts in rate_limit_starts under the queue's row
 * lock. This is what a worker with nothing it may start asks: when does the
 * next slot open.
 */
import { NOW } from './clock.js'
import type { PgContext } from './db.js'

/**
 * Milliseconds until the first of these queues that is at its rate limit gets
 * a free slot (its max-th newest start leaves the window); null when none is held back.
 */
export async function rateLimitWaitMs(ctx: PgContext, queues: string[]): Promise<number | null> {
  const [row] = await ctx.query<{ wait: number | null }>(
    `SELECT min(extract(epoch FROM s.at + q.rate_interval_ms * interval '1 millisecond' - ${NOW(2)}) * 1000)::float8 AS wait
     FROM queues q, LATERAL (
       SELECT at FROM rate_limit_starts
       WHERE queue = q.name AND at > ${NOW(2)} - q.rate_interval_ms * interval '1 millisecond'
       ORDER BY at DESC OFFSET q.rate_max - 1 LIMIT 1
     ) s
     WHERE q.name = ANY($1) AND q.status = 'active' AND q.rate_max IS NOT NULL`,
    [queues, ctx.clockNow()],
  )
  // GREATEST in SQL would turn "no queue held back" (NULL) into 0.
  return row?.wait == null ? null : Math.max(0, Math.ceil(Number(row.wait)))
}
