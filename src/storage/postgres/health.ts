/** A queue's health on PostgreSQL: the oldest ready job, recent finishes and additions, the top errors (core/stats.ts). */
import { type QueueHealthRow, TOP_ERRORS, TOP_ERRORS_WINDOW_MS } from '../../core/stats.js'
import type { PgContext } from './db.js'

/** Read at `now` (the injected clock); only `owner`'s jobs when given, as if no one else's existed. */
export async function queueHealth(
  ctx: PgContext,
  queue: string,
  owner: string | null,
  now: number,
): Promise<QueueHealthRow> {
  const at = new Date(now)
  const mine = '($2::text IS NULL OR owner = $2)'
  const [[figures], errors] = await Promise.all([
    ctx.query<{ ready: Date | null; c1: number; f1: number; c5: number; f5: number; added: number }>(
      `SELECT
         (SELECT min(run_at) FROM jobs WHERE queue = $1 AND status IN ('waiting','scheduled')
            AND run_at <= $3::timestamptz AND ${mine}) AS ready,
         count(*) FILTER (WHERE status = 'completed' AND finished_at >= $3::timestamptz - interval '1 minute')::int AS c1,
         count(*) FILTER (WHERE status = 'failed' AND finished_at >= $3::timestamptz - interval '1 minute')::int AS f1,
         count(*) FILTER (WHERE status = 'completed')::int AS c5,
         count(*) FILTER (WHERE status = 'failed')::int AS f5,
         (SELECT count(*)::int FROM jobs WHERE queue = $1 AND created_at >= $3::timestamptz - interval '5 minutes'
            AND created_at <= $3::timestamptz AND ${mine}) AS added
       FROM jobs WHERE queue = $1 AND finished_at >= $3::timestamptz - interval '5 minutes' AND finished_at <= $3::timestamptz
         AND ${mine}`,
      [queue, owner, at],
    ),
    ctx.query<{ name: string | null; message: string | null; n: number; latest_at: Date; id: string }>(
      `SELECT last_error->>'name' AS name, last_error->>'message' AS message, count(*)::int AS n,
         max(finished_at) AS latest_at, (array_agg(id ORDER BY finished_at DESC, id DESC))[1] AS id
       FROM jobs WHERE queue = $1 AND status = 'failed' AND last_error IS NOT NULL
         AND finished_at >= $3::timestamptz - $4 * interval '1 millisecond' AND ${mine}
       GROUP BY 1, 2 ORDER BY n DESC, latest_at DESC LIMIT ${TOP_ERRORS}`,
      [queue, owner, at, TOP_ERRORS_WINDOW_MS],
    ),
  ])
  return {
    oldestReadyAt: figures?.ready ? figures.ready.getTime() : null,
    finished: {
      lastMinute: { completed: figures?.c1 ?? 0, failed: figures?.f1 ?? 0 },
      last5Minutes: { completed: figures?.c5 ?? 0, failed: figures?.f5 ?? 0 },
    },
    added5Minutes: figures?.added ?? 0,
    topErrors: errors.map((r) => ({
      name: r.name,
      message: r.message ?? '',
      count: r.n,
      latestJobId: r.id,
      latestAt: r.latest_at.getTime(),
    })),
  }
}
