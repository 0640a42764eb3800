/** Groups on PostgreSQL: the grouped claim is claim_grouped (migration 0015); this reads a queue's busiest groups. */
import type { PgContext } from './db.js'

/** The busiest groups of a queue (most active, then waiting jobs), only `owner`'s jobs when given. */
export async function groupCounts(
  ctx: PgContext,
  queue: string,
  owner: string | null,
  limit: number,
): Promise<{ group: string; active: number; waiting: number }[]> {
  return ctx.query(
    `SELECT group_key AS "group", count(*) FILTER (WHERE status = 'active')::int AS active,
       count(*) FILTER (WHERE status <> 'active')::int AS waiting
     FROM jobs WHERE queue = $1 AND group_key IS NOT NULL AND status IN ('active','waiting','scheduled')
       AND ($2::text IS NULL OR owner = $2)
     GROUP BY group_key ORDER BY active DESC, waiting DESC, group_key LIMIT $3`,
    [queue, owner, limit],
  )
}
