/** A queue's health on SQLite: the oldest ready job, recent finishes and additions, the top errors (core/stats.ts). */
import { type QueueHealthRow, TOP_ERRORS, TOP_ERRORS_WINDOW_MS } from '../../core/stats.js'
import type { SqliteContext } from './db.js'

type Row = Record<string, unknown>

/** An error's group: its fingerprint, or (stored before fingerprints existed) its exact name and message. */
const ERROR_GROUP = `coalesce(json_extract(last_error, '$.fingerprint'),
  'message:' || coalesce(json_extract(last_error, '$.name'), '') || char(10) || json_extract(last_error, '$.message'))`

/** Read at `now` (the injected clock); only `owner`'s jobs when given, as if no one else's existed. */
export function queueHealth(
  ctx: SqliteContext,
  queue: string,
  owner: string | null,
  now: number,
): QueueHealthRow {
  const p = { queue, owner, now, minute: now - 60_000, five: now - 300_000, day: now - TOP_ERRORS_WINDOW_MS }
  const mine = '(@owner IS NULL OR owner = @owner)'
  const ready = ctx
    .stmt(
      `SELECT min(run_at) AS at FROM jobs
       WHERE queue = @queue AND status IN ('waiting','scheduled') AND run_at <= @now AND ${mine}`,
    )
    .get(p) as { at: number | null }
  const finished = ctx
    .stmt(
      `SELECT
         count(*) FILTER (WHERE status = 'completed' AND finished_at >= @minute) AS c1,
         count(*) FILTER (WHERE status = 'failed' AND finished_at >= @minute) AS f1,
         count(*) FILTER (WHERE status = 'completed') AS c5,
         count(*) FILTER (WHERE status = 'failed') AS f5
       FROM jobs WHERE queue = @queue AND finished_at >= @five AND finished_at <= @now AND ${mine}`,
    )
    .get(p) as Record<'c1' | 'f1' | 'c5' | 'f5', number>
  const added = ctx
    .stmt(
      `SELECT count(*) AS n FROM jobs
       WHERE queue = @queue AND created_at >= @five AND created_at <= @now AND ${mine}`,
    )
    .get(p) as { n: number }
  // Each group's latest failure (row 1 of its window) is its example, with the group's count and first time.
  const errors = ctx
    .stmt(
      `SELECT fingerprint, name, message, stack, n, first_at, finished_at AS latest_at, id FROM (
         SELECT json_extract(last_error, '$.fingerprint') AS fingerprint, json_extract(last_error, '$.name') AS name,
           json_extract(last_error, '$.message') AS message, json_extract(last_error, '$.stack') AS stack,
           finished_at, id, count(*) OVER grp AS n, min(finished_at) OVER grp AS first_at,
           row_number() OVER (grp ORDER BY finished_at DESC, id DESC) AS nth
         FROM jobs WHERE queue = @queue AND status = 'failed' AND last_error IS NOT NULL
           AND finished_at >= @day AND ${mine}
         WINDOW grp AS (PARTITION BY ${ERROR_GROUP})
       ) WHERE nth = 1 ORDER BY n DESC, latest_at DESC LIMIT ${TOP_ERRORS}`,
    )
    .all(p) as Row[]
  return {
    oldestReadyAt: ready.at === null ? null : Number(ready.at),
    finished: {
      lastMinute: { completed: Number(finished.c1), failed: Number(finished.f1) },
      last5Minutes: { completed: Number(finished.c5), failed: Number(finished.f5) },
    },
    added5Minutes: Number(added.n),
    topErrors: errors.map((r) => ({
      fingerprint: (r.fingerprint as string | null) ?? null,
      name: (r.name as string | null) ?? null,
      message: String(r.message ?? ''),
      stack: (r.stack as string | null) ?? null,
      count: Number(r.n),
      firstSeenAt: Number(r.first_at),
      latestJobId: String(r.id),
      latestAt: Number(r.latest_at),
    })),
  }
}
