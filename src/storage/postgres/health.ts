/** A queue's health on PostgreSQL: the oldest ready job, recent finishes and additions, the top errors (core/stats.ts). */
import { type QueueHealthRow, TOP_ERRORS, TOP_ERRORS_WINDOW_MS } from '../../core/stats.js'
import type { PgContext } from './db.js'

/** An error's group: its fingerprint, or (stored before fingerprints existed) its exact name and message. */
const ERROR_GROUP = `coalesce(last_error->>'fingerprint',
  'message:' || coalesce(last_error->>'name', '') || chr(10) || (last_error->>'message'))`

/** The fields of `last_error` the top errors read. */
interface JobErrorJson {
  fingerprint?: string
  name?: string | null
  message?: string
  stack?: string | null
}

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
    ctx.query<{ latest: JobErrorJson; n: number; first_at: Date; latest_at: Date; id: string }>(
      // Each group's latest error is its example.
      `SELECT (array_agg(last_error ORDER BY finished_at DESC, id DESC))[1] AS latest, count(*)::int AS n,
         min(finished_at) AS first_at, max(finished_at) AS latest_at,
         (array_agg(id ORDER BY finished_at DESC, id DESC))[1] AS id
       FROM jobs WHERE queue = $1 AND status = 'failed' AND last_error IS NOT NULL
         AND finished_at >= $3::timestamptz - $4 * interval '1 millisecond' AND ${mine}
       GROUP BY ${ERROR_GROUP} ORDER BY n DESC, latest_at DESC LIMIT ${TOP_ERRORS}`,
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
      fingerprint: r.latest.fingerprint ?? null,
      name: r.latest.name ?? null,
      message: r.latest.message ?? '',
      stack: r.latest.stack ?? null,
      count: r.n,
      firstSeenAt: r.first_at.getTime(),
      latestJobId: r.id,
      latestAt: r.latest_at.getTime(),
    })),
  }
}
