/**
 * Queue rate limits on SQLite: a sliding window log of starts per queue
 * (rate_limit_starts), read and written inside the claim's IMMEDIATE
 * transaction, so no other claimer comes between the count and the starts.
 */
import type { SqliteContext } from './db.js'

export interface RateLimited {
  name: string
  rate_max: number | null
  rate_interval_ms: number | null
  /** 'group': each group has its own budget (counted by the grouped claim, groups.ts). */
  rate_per: string | null
}

/** How many more jobs of the queue may start now: the limit less the starts still in the window (pruning the rest). */
export function rateRoom(ctx: SqliteContext, q: RateLimited, now: number): number {
  if (q.rate_max === null || q.rate_interval_ms === null || q.rate_per === 'group')
    return Number.POSITIVE_INFINITY
  ctx.stmt('DELETE FROM rate_limit_starts WHERE queue = ? AND at <= ?').run(q.name, now - q.rate_interval_ms)
  const { n } = ctx.stmt('SELECT count(*) AS n FROM rate_limit_starts WHERE queue = ?').get(q.name) as {
    n: number
  }
  return q.rate_max - n
}

/** Records the starts of these jobs (by their groups) at `now`, when the queue has a rate limit. */
export function recordStarts(
  ctx: SqliteContext,
  q: RateLimited,
  groups: (string | null)[],
  now: number,
): void {
  if (q.rate_max === null) return
  const insert = ctx.stmt('INSERT INTO rate_limit_starts (queue, group_key, at) VALUES (?, ?, ?)')
  for (const g of groups) insert.run(q.name, q.rate_per === 'group' ? (g ?? '') : '', now)
}

/**
 * Milliseconds until the first of these queues that is at its rate limit gets
 * a free slot (its max-th newest start leaves the window); null when none is held back.
 */
export function rateLimitWaitMs(ctx: SqliteContext, queues: string[]): number | null {
  const now = ctx.now()
  let wait: number | null = null
  for (const name of new Set(queues)) {
    const q = ctx
      .stmt(
        `SELECT rate_max, rate_interval_ms FROM queues
         WHERE name = ? AND status = 'active' AND rate_max IS NOT NULL`,
      )
      .get(name) as { rate_max: number; rate_interval_ms: number } | undefined
    if (!q) continue
    // Per group: the group whose slot opens first (a queue-wide limit is the one group '').
    const row = ctx
      .stmt(
        `SELECT min(at) AS at FROM (
           SELECT at, row_number() OVER (PARTITION BY group_key ORDER BY at DESC) AS rn
           FROM rate_limit_starts WHERE queue = ? AND at > ?)
         WHERE rn = ?`,
      )
      .get(name, now - q.rate_interval_ms, q.rate_max) as { at: number | null } | undefined
    if (row?.at == null) continue
    const ms = Math.max(0, row.at + q.rate_interval_ms - now)
    wait = wait === null ? ms : Math.min(wait, ms)
  }
  return wait
}

/**
 * The queue's rate limit as it stands: the starts still in the window (the
 * busiest group's, for a limit per group) and, when they fill it, ms until
 * the next slot opens. Null for a queue without a rate limit. Read-only.
 */
export function rateLimitUse(
  ctx: SqliteContext,
  queue: string,
): { used: number; waitMs: number | null } | null {
  const q = ctx
    .stmt('SELECT rate_max, rate_interval_ms FROM queues WHERE name = ? AND rate_max IS NOT NULL')
    .get(queue) as { rate_max: number; rate_interval_ms: number } | undefined
  if (!q) return null
  const now = ctx.now()
  // Per group ('' when the limit is queue-wide): its starts in the window and its max-th newest start.
  const row = ctx
    .stmt(
      `SELECT max(n) AS used, min(CASE WHEN n >= @max THEN slot END) AS slot FROM (
         SELECT count(*) AS n,
           (SELECT at FROM rate_limit_starts s WHERE s.queue = @queue AND s.group_key = g.group_key AND s.at > @since
            ORDER BY at DESC LIMIT 1 OFFSET @max - 1) AS slot
         FROM rate_limit_starts g WHERE g.queue = @queue AND g.at > @since GROUP BY g.group_key)`,
    )
    .get({ queue, since: now - q.rate_interval_ms, max: q.rate_max }) as {
    used: number | null
    slot: number | null
  }
  return {
    used: row.used ?? 0,
    waitMs: row.slot == null ? null : Math.max(0, row.slot + q.rate_interval_ms - now),
  }
}
