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
}

/** How many more jobs of the queue may start now: the limit less the starts still in the window (pruning the rest). */
export function rateRoom(ctx: SqliteContext, q: RateLimited, now: number): number {
  if (q.rate_max === null || q.rate_interval_ms === null) return Number.POSITIVE_INFINITY
  ctx.stmt('DELETE FROM rate_limit_starts WHERE queue = ? AND at <= ?').run(q.name, now - q.rate_interval_ms)
  const { n } = ctx.stmt('SELECT count(*) AS n FROM rate_limit_starts WHERE queue = ?').get(q.name) as {
    n: number
  }
  return q.rate_max - n
}

/** Records `count` starts of the queue at `now`, when it has a rate limit. */
export function recordStarts(ctx: SqliteContext, q: RateLimited, count: number, now: number): void {
  if (q.rate_max === null || count === 0) return
  const insert = ctx.stmt('INSERT INTO rate_limit_starts (queue, at) VALUES (?, ?)')
  for (let i = 0; i < count; i++) insert.run(q.name, now)
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
    const row = ctx
      .stmt(`SELECT at FROM rate_limit_starts WHERE queue = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?`)
      .get(name, now - q.rate_interval_ms, q.rate_max - 1) as { at: number } | undefined
    if (!row) continue
    const ms = Math.max(0, row.at + q.rate_interval_ms - now)
    wait = wait === null ? ms : Math.min(wait, ms)
  }
  return wait
}
