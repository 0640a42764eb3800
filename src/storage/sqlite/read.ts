import { EXPIRED_ERROR_NAME } from '../../core/expiry.js'
import { type JsonCondition, searchOption } from '../../core/job-search.js'
import type { FinishedJobRow } from '../../core/stats.js'
import {
  emptyCounts,
  type Job,
  type JobDependencies,
  type JobEvent,
  type StatusCounts,
  type UpstreamJob,
} from '../../core/types.js'
import {
  buildCountJobsQuery,
  buildListJobsQuery,
  buildRecentQueueTypesQuery,
  type ListDialect,
} from '../list-query.js'
import {
  BATCH_COUNTS_SQL,
  batchSummary,
  rowToArtifact,
  rowToEvent,
  rowToJob,
  rowToStoredEvent,
  rowToUpstream,
} from '../rows.js'
import type {
  Artifact,
  BatchSummary,
  EventFilter,
  EventPage,
  JobFilter,
  ListJobsParams,
  StoredEvent,
} from '../store.js'
import { decode, type SqliteContext } from './db.js'
import { withinBudget } from './search.js'

type Row = Record<string, unknown>

export function getJob(ctx: SqliteContext, id: string): Job | null {
  const row = ctx.stmt('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined
  return row ? rowToJob(row, decode) : null
}

export function getJobEvents(ctx: SqliteContext, id: string, afterId: number, limit: number): JobEvent[] {
  return (
    ctx
      .stmt('SELECT * FROM events WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?')
      .all(id, afterId, limit) as Row[]
  ).map((r) => rowToEvent(r, decode))
}

export function getUpstreamJobs(ctx: SqliteContext, id: string): UpstreamJob[] {
  return (
    ctx
      .stmt(
        `SELECT j.id, j.type, j.status, j.result, d.type AS "on" FROM job_dependencies d
         JOIN jobs j ON j.id = d.depends_on WHERE d.job_id = ? ORDER BY d.depends_on`,
      )
      .all(id) as Row[]
  ).map((r) => rowToUpstream(r, decode))
}

export function getJobDependencies(ctx: SqliteContext, id: string): JobDependencies {
  const upstream = ctx
    .stmt(
      `SELECT d.depends_on AS id, coalesce(j.status, 'completed') AS status, d.type AS "on" FROM job_dependencies d
       LEFT JOIN jobs j ON j.id = d.depends_on WHERE d.job_id = ? ORDER BY d.depends_on`,
    )
    .all(id) as JobDependencies['upstream']
  const downstream = ctx
    .stmt(
      `SELECT d.job_id AS id, j.status, d.type AS "on" FROM job_dependencies d JOIN jobs j ON j.id = d.job_id
       WHERE d.depends_on = ? ORDER BY d.job_id`,
    )
    .all(id) as JobDependencies['downstream']
  return { upstream, downstream }
}

/** json_type() of a JSON literal's value, for conditions that match only values of the literal's type. */
const jsonTypes = (value: JsonCondition['value']): string[] =>
  value === null
    ? ['null']
    : typeof value === 'number'
      ? ['integer', 'real']
      : typeof value === 'string'
        ? ['text']
        : [String(value)]

const inList = (types: string[]) => types.map((t) => `'${t}'`).join(', ')

/**
 * How a job list reads in SQLite. The short id is `substr(id, 29)`, the
 * expression `jobs_short_id` indexes (migration 0005); text search scans (the
 * benchmark in docs/benchmarks.md says what that costs).
 */
export const sqliteListDialect: ListDialect = {
  placeholder: () => '?',
  encodeTime: (ms) => ms,
  errorFingerprint: "json_extract(last_error, '$.fingerprint')",
  idMatches(m, bind) {
    const range = m.from === m.to ? `id = ${bind(m.from)}` : `id BETWEEN ${bind(m.from)} AND ${bind(m.to)}`
    return m.shortId === null ? range : `(${range} OR substr(id, 29) = ${bind(m.shortId)})`
  },
  // Not LIKE, whose backtracking a pathological pattern turns quadratic: see search.ts.
  textMatches: (text, bind) => {
    const needle = text.toLowerCase()
    return `(docket_contains(payload, ${bind(needle)}) OR docket_contains(json_extract(last_error, '$.message'), ${bind(needle)}))`
  },
  // Each condition asks the statement's time budget first, row by row (search.ts).
  jsonCondition: (c, bind) => `(docket_in_budget() AND ${jsonConditionSql(c, bind)})`,
}

/** A `where` condition in SQLite's JSON functions (core/job-search.ts says what it means). */
function jsonConditionSql(c: JsonCondition, bind: (value: unknown) => string): string {
  const path = () => bind(`$.${c.path.join('.')}`)
  const type = `json_type(payload, ${path()})`
  if (typeof c.value === 'boolean' && c.op === '!=') return `${type} = '${String(!c.value)}'`
  if (c.value === null) return c.op === '=' ? `${type} = 'null'` : `${type} <> 'null'`
  if (typeof c.value === 'boolean') return `${type} = '${String(c.value)}'`
  const op = c.op === '!=' ? '<>' : c.op
  return `(${type} IN (${inList(jsonTypes(c.value))}) AND json_extract(payload, ${path()}) ${op} ${bind(c.value)})`
}

export function listJobs(ctx: SqliteContext, p: ListJobsParams): Job[] {
  const q = buildListJobsQuery(p, sqliteListDialect)
  const rows = withinBudget(
    ctx.search,
    searchOption(p),
    () => ctx.db.prepare(q.sql).all(...q.values) as Row[],
  )
  return rows.map((r) => rowToJob(r, decode))
}

export function countMatchingJobs(ctx: SqliteContext, p: JobFilter, upTo: number): number {
  const q = buildCountJobsQuery(p, sqliteListDialect, upTo)
  return withinBudget(ctx.search, searchOption(p), () =>
    Number((ctx.db.prepare(q.sql).get(...q.values) as { n: number }).n),
  )
}

export function jobWorkerRegistrants(ctx: SqliteContext, jobIds: string[]): Map<string, string | null> {
  const found = new Map<string, string | null>()
  // In chunks: a statement takes at most so many parameters.
  for (let i = 0; i < jobIds.length; i += 500) {
    const chunk = jobIds.slice(i, i + 500)
    const rows = ctx.db
      .prepare(
        `SELECT j.id, w.registered_by FROM jobs j LEFT JOIN workers w ON w.id = j.worker_id
         WHERE j.id IN (${chunk.map(() => '?').join(', ')})`,
      )
      .all(...chunk) as { id: string; registered_by: string | null }[]
    for (const r of rows) found.set(r.id, r.registered_by ?? null)
  }
  return found
}

export function recentQueueTypes(ctx: SqliteContext, owner: string | null, sample: number) {
  const q = buildRecentQueueTypesQuery(owner, sample, sqliteListDialect)
  return ctx.db.prepare(q.sql).all(...q.values) as { queue: string; type: string }[]
}

export function countJobs(
  ctx: SqliteContext,
  queue: string | null,
  owner: string | null,
): Map<string, StatusCounts> {
  const counts = new Map<string, StatusCounts>()
  const names =
    queue === null ? (ctx.stmt('SELECT name FROM queues').all() as { name: string }[]) : [{ name: queue }]
  for (const { name } of names) counts.set(name, emptyCounts())
  const where = [queue === null ? null : 'queue = @queue', owner === null ? null : 'owner = @owner'].filter(
    Boolean,
  )
  const rows = ctx
    .stmt(
      `SELECT queue, status, count(*) AS n FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       GROUP BY queue, status`,
    )
    .all({ ...(queue === null ? {} : { queue }), ...(owner === null ? {} : { owner }) }) as {
    queue: string
    status: keyof StatusCounts
    n: number
  }[]
  for (const row of rows) {
    const c = counts.get(row.queue) ?? emptyCounts()
    c[row.status] = Number(row.n)
    counts.set(row.queue, c)
  }
  return counts
}

export function getBatch(ctx: SqliteContext, id: string): BatchSummary | null {
  const batch = ctx.stmt('SELECT * FROM batches WHERE id = ?').get(id) as Row | undefined
  if (!batch) return null
  const counts = ctx.stmt(BATCH_COUNTS_SQL.replace('$1', '?')).all(id) as {
    status: string
    n: number
    progress: number
  }[]
  return batchSummary(batch, counts, decode)
}

export function listBatches(
  ctx: SqliteContext,
  p: { owner: string | null; before: string | null; limit: number },
): BatchSummary[] {
  const rows = ctx
    .stmt(`SELECT id FROM batches WHERE (? IS NULL OR owner = ?) AND (? IS NULL OR id < ?)
           ORDER BY id DESC LIMIT ?`)
    .all(p.owner, p.owner, p.before, p.before, p.limit) as { id: string }[]
  return rows.flatMap(({ id }) => getBatch(ctx, id) ?? [])
}

/**
 * How many ids of the log a read filtered by queue looks at (there is no
 * index by queue): better-sqlite3 answers on the event loop's thread, so one
 * read must not walk a whole large log for a quiet queue.
 */
export const QUEUE_SCAN_WINDOW = 5000

/** A page of the log ends once its events' data and messages reach this many characters. */
export const EVENT_PAGE_BYTES = 256 * 1024

/**
 * A page of the log after `cursor` (an event id: SQLite commits one write at
 * a time, so ids are commit order). A job's events come by the
 * events_job (job_id, id) index; a queue's from a window of ids at a time.
 * Once caught up, the cursor moves to the end of the log as this read saw
 * it, past what the filter left out.
 */
export function readEvents(
  ctx: SqliteContext,
  cursor: string | null,
  limit: number,
  filter: EventFilter = {},
): EventPage {
  const after = cursor === null ? 0 : Number(cursor)
  // The end first: every event up to it is committed (writes are serial), later ones wait for the next read.
  const end = (ctx.stmt('SELECT coalesce(max(id), 0) AS id FROM events').get() as { id: number }).id
  const upTo =
    filter.jobId === undefined && filter.queue !== undefined ? Math.min(end, after + QUEUE_SCAN_WINDOW) : end
  const [sql, params] =
    filter.jobId !== undefined
      ? [
          'SELECT * FROM events WHERE job_id = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?',
          [filter.jobId, after, upTo, limit],
        ]
      : [
          'SELECT * FROM events WHERE id > ? AND id <= ? AND (? IS NULL OR queue = ?) ORDER BY id LIMIT ?',
          [after, upTo, filter.queue ?? null, filter.queue ?? null, limit],
        ]
  // Row by row, so that a page stops at EVENT_PAGE_BYTES of data however large each event is.
  const events: StoredEvent[] = []
  let bytes = 0
  for (const row of ctx.stmt(sql).iterate(...params) as IterableIterator<Row>) {
    events.push(rowToStoredEvent(row, decode))
    bytes += String(row.data ?? '').length + String(row.message ?? '').length
    if (bytes >= EVENT_PAGE_BYTES) break
  }
  const full = events.length === limit || bytes >= EVENT_PAGE_BYTES
  const next = full ? events[events.length - 1]!.id : Math.max(after, upTo)
  return {
    events,
    cursor: next === 0 && cursor === null ? null : String(next),
    more: full || upTo < end,
  }
}

export function eventsTail(ctx: SqliteContext): string | null {
  const row = ctx.stmt('SELECT max(id) AS id FROM events').get() as { id: number | null }
  return row.id === null ? null : String(row.id)
}

export function eventCursorAfter(ctx: SqliteContext, id: number): string | null {
  return ctx.stmt('SELECT 1 FROM events WHERE id = ?').get(id) ? String(id) : null
}

export function listArtifacts(ctx: SqliteContext, jobId: string): Artifact[] {
  return (
    ctx.stmt('SELECT * FROM artifacts WHERE job_id = ? ORDER BY created_at, id').all(jobId) as Row[]
  ).map((r) => rowToArtifact(r, decode))
}

export function getArtifact(ctx: SqliteContext, id: string): Artifact | null {
  const row = ctx.stmt('SELECT * FROM artifacts WHERE id = ?').get(id) as Row | undefined
  return row ? rowToArtifact(row, decode) : null
}

export function finishedJobs(
  ctx: SqliteContext,
  queue: string | null,
  sinceMs: number,
  limit: number,
): FinishedJobRow[] {
  const rows = (
    queue === null
      ? ctx
          .stmt(`SELECT status, created_at, started_at, finished_at, duration_ms,
                   json_extract(last_error, '$.name') = '${EXPIRED_ERROR_NAME}' AS expired FROM jobs
                 WHERE finished_at >= ? ORDER BY finished_at DESC LIMIT ?`)
          .all(sinceMs, limit)
      : ctx
          .stmt(`SELECT status, created_at, started_at, finished_at, duration_ms,
                   json_extract(last_error, '$.name') = '${EXPIRED_ERROR_NAME}' AS expired FROM jobs
                 WHERE finished_at >= ? AND queue = ? ORDER BY finished_at DESC LIMIT ?`)
          .all(sinceMs, queue, limit)
  ) as Row[]
  return rows.map((r) => ({
    status: r.status as FinishedJobRow['status'],
    createdAt: Number(r.created_at),
    startedAt: r.started_at == null ? null : Number(r.started_at),
    finishedAt: Number(r.finished_at),
    durationMs: r.duration_ms == null ? null : Number(r.duration_ms),
    expired: r.expired === 1,
  }))
}
