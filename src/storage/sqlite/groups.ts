/**
 * The claim of a queue with groups in play on SQLite (per-group concurrency,
 * fair turns, a rate limit per group), inside the claim's IMMEDIATE
 * transaction. The same rule as PostgreSQL's claim_grouped (migration 0015):
 * each group may start at most its limit less its active jobs (and, per
 * group, its rate budget less its starts in the window); jobs without a group
 * are one group '' that no group limit applies to; fair claims take the first
 * ready job of each group before anyone's second, least recently served group first.
 */
import type { SqliteContext } from './db.js'

export interface GroupedQueue {
  name: string
  ordering: 'priority' | 'fifo'
  rate_max: number | null
  rate_interval_ms: number | null
  rate_per: string | null
  group_concurrency: number | null
  fair: number
}

export const hasGroupRules = (q: GroupedQueue): boolean =>
  q.group_concurrency !== null || q.fair === 1 || q.rate_per === 'group'

/** Ids of the jobs to start, at most `take`, in the order they are to be leased. */
export function pickGrouped(
  ctx: SqliteContext,
  q: GroupedQueue,
  caps: string[],
  take: number,
  now: number,
): string[] {
  const ratePerGroup = q.rate_per === 'group' && q.rate_max !== null
  if (ratePerGroup)
    ctx
      .stmt('DELETE FROM rate_limit_starts WHERE queue = ? AND at <= ?')
      .run(q.name, now - q.rate_interval_ms!)
  const order = q.ordering === 'priority' ? 'priority DESC, run_at, id' : 'run_at, id'
  const rows = ctx
    .stmt(
      `WITH active AS (
         SELECT coalesce(group_key, '') AS g, count(*) AS n FROM jobs
         WHERE queue = @queue AND status = 'active' GROUP BY 1
       ), recent AS (
         SELECT group_key AS g, count(*) AS n FROM rate_limit_starts WHERE queue = @queue GROUP BY 1
       ), ready AS (
         SELECT id, coalesce(group_key, '') AS g, group_key IS NULL AS ungrouped, priority, run_at,
           row_number() OVER (PARTITION BY coalesce(group_key, '') ORDER BY ${order}) AS rn
         FROM jobs j
         WHERE j.queue = @queue AND j.status IN ('waiting','scheduled') AND j.run_at <= @now
           AND (j.expires_at IS NULL OR j.expires_at > @now)
           AND (j.capabilities IS NULL OR NOT EXISTS (
             SELECT 1 FROM json_each(j.capabilities) c WHERE c.value NOT IN (SELECT value FROM json_each(@caps))))
       )
       SELECT r.id FROM ready r
       LEFT JOIN active a ON a.g = r.g
       LEFT JOIN recent s ON s.g = r.g
       LEFT JOIN group_turns t ON t.queue = @queue AND t.group_key = r.g
       WHERE (@groupLimit IS NULL OR r.ungrouped OR r.rn <= @groupLimit - coalesce(a.n, 0))
         AND (@rateMax IS NULL OR r.rn <= @rateMax - coalesce(s.n, 0))
       ORDER BY CASE WHEN @fair THEN r.rn END, CASE WHEN @fair THEN coalesce(t.served, 0) END, ${order.replace(/(^|, )/g, '$1r.')}
       LIMIT @take`,
    )
    .all({
      queue: q.name,
      now,
      caps: JSON.stringify(caps),
      groupLimit: q.group_concurrency,
      rateMax: ratePerGroup ? q.rate_max : null,
      fair: q.fair,
      take,
    }) as { id: string }[]
  return rows.map((r) => r.id)
}

/** A fair queue's groups just served go to the back of the turn order, in the order they were served. */
export function recordTurns(ctx: SqliteContext, q: GroupedQueue, groups: (string | null)[]): void {
  if (q.fair !== 1) return
  const upsert = ctx.stmt(
    `INSERT INTO group_turns (queue, group_key, served)
     VALUES (?, ?, (SELECT coalesce(max(served), 0) + 1 FROM group_turns))
     ON CONFLICT (queue, group_key) DO UPDATE SET served = excluded.served`,
  )
  for (const g of new Set(groups.map((x) => x ?? ''))) upsert.run(q.name, g)
}

/** The busiest groups of a queue (most active, then waiting jobs), only `owner`'s jobs when given. */
export function groupCounts(
  ctx: SqliteContext,
  queue: string,
  owner: string | null,
  limit: number,
): { group: string; active: number; waiting: number }[] {
  return ctx
    .stmt(
      `SELECT group_key AS "group", sum(status = 'active') AS active, sum(status <> 'active') AS waiting
       FROM jobs WHERE queue = @queue AND group_key IS NOT NULL AND status IN ('active','waiting','scheduled')
         AND (@owner IS NULL OR owner = @owner)
       GROUP BY group_key ORDER BY active DESC, waiting DESC, group_key LIMIT @limit`,
    )
    .all({ queue, owner, limit }) as { group: string; active: number; waiting: number }[]
}
