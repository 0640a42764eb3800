/**
 * Queue rate limits on PostgreSQL: the claim function (claim_jobs, migration
 * 0015) counts and records starts in rate_limit_starts under the queue's row
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
  // Per group, the group whose slot opens first (a queue-wide limit is the one group '').
  const [row] = await ctx.query<{ wait: number | null }>(
    `SELECT min(extract(epoch FROM x.at + x.span - ${NOW(2)}) * 1000)::float8 AS wait FROM (
       SELECT s.at, q.rate_interval_ms * interval '1 millisecond' AS span, q.rate_max,
         row_number() OVER (PARTITION BY s.queue, s.group_key ORDER BY s.at DESC) AS rn
       FROM queues q JOIN rate_limit_starts s
         ON s.queue = q.name AND s.at > ${NOW(2)} - q.rate_interval_ms * interval '1 millisecond'
       WHERE q.name = ANY($1) AND q.status = 'active' AND q.rate_max IS NOT NULL
     ) x WHERE x.rn = x.rate_max`,
    [queues, ctx.clockNow()],
  )
  // GREATEST in SQL would turn "no queue held back" (NULL) into 0.
  return row?.wait == null ? null : Math.max(0, Math.ceil(Number(row.wait)))
}

/**
 * The queue's rate limit as it stands: the starts still in the window (the
 * busiest group's, for a limit per group) and, when they fill it, ms until
 * the next slot opens. Null for a queue without a rate limit. Read-only.
 */
export async function rateLimitUse(
  ctx: PgContext,
  queue: string,
): Promise<{ used: number; waitMs: number | null } | null> {
  // Per group ('' when the limit is queue-wide): its starts in the window and its max-th newest start.
  const [row] = await ctx.query<{ limited: boolean; used: number; wait: number | null }>(
    `WITH q AS (
       SELECT rate_max, rate_interval_ms * interval '1 millisecond' AS span FROM queues
       WHERE name = $1 AND rate_max IS NOT NULL
     ), per AS (
       SELECT count(*)::int AS n, (array_agg(s.at ORDER BY s.at DESC))[q.rate_max] AS slot
       FROM rate_limit_starts s, q WHERE s.queue = $1 AND s.at > ${NOW(2)} - q.span
       GROUP BY s.group_key, q.rate_max
     )
     SELECT EXISTS (SELECT 1 FROM q) AS limited, coalesce((SELECT max(n) FROM per), 0) AS used,
       (SELECT min(extract(epoch FROM per.slot + q.span - ${NOW(2)}) * 1000) FROM per, q
        WHERE per.n >= q.rate_max)::float8 AS wait`,
    [queue, ctx.clockNow()],
  )
  if (!row?.limited) return null
  return { used: row.used, waitMs: row.wait == null ? null : Math.max(0, Math.ceil(Number(row.wait))) }
}
