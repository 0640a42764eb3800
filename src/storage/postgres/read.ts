import { EXPIRED_ERROR_NAME } from '../../core/expiry.js'
import { containsPattern, type JsonCondition, searchOption, searchTimedOut } from '../../core/job-search.js'
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
import { decode, type PgContext } from './db.js'

export async function getJob(ctx: PgContext, id: string): Promise<Job | null> {
  const [row] = await ctx.query('SELECT * FROM jobs WHERE id = $1', [id])
  return row ? rowToJob(row, decode) : null
}

export async function getJobEvents(
  ctx: PgContext,
  id: string,
  afterId: number,
  limit: number,
): Promise<JobEvent[]> {
  const rows = await ctx.query('SELECT * FROM events WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT $3', [
    id,
    afterId,
    limit,
  ])
  return rows.map((r) => rowToEvent(r, decode))
}

export async function getUpstreamJobs(ctx: PgContext, id: string): Promise<UpstreamJob[]> {
  const rows = await ctx.query(
    `SELECT j.id, j.type, j.status, j.result, d.type AS "on" FROM job_dependencies d
     JOIN jobs j ON j.id = d.depends_on WHERE d.job_id = $1 ORDER BY d.depends_on`,
    [id],
  )
  return rows.map((r) => rowToUpstream(r, decode))
}

export async function getJobDependencies(ctx: PgContext, id: string): Promise<JobDependencies> {
  const upstream = await ctx.query<{ id: string; status: never; on: never }>(
    `SELECT d.depends_on AS id, coalesce(j.status, 'completed') AS status, d.type AS "on" FROM job_dependencies d
     LEFT JOIN jobs j ON j.id = d.depends_on WHERE d.job_id = $1 ORDER BY d.depends_on`,
    [id],
  )
  const downstream = await ctx.query<{ id: string; status: never; on: never }>(
    `SELECT d.job_id AS id, j.status, d.type AS "on" FROM job_dependencies d JOIN jobs j ON j.id = d.job_id
     WHERE d.depends_on = $1 ORDER BY d.job_id`,
    [id],
  )
  return { upstream, downstream }
}

/**
 * The text a search looks in: the payload's JSON, a newline, the last error's
 * message (a search term holds no control character, so it never spans both).
 * Written exactly as the optional trigram index `jobs_search_trgm` (docs/search.md)
 * has it, so the planner can use that index; without pg_trgm it is a scan.
 */
export const SEARCH_TEXT = "(payload::text || chr(10) || coalesce(last_error->>'message', ''))"

/** `{"a": {"b": value}}` for the condition payload.a.b = value. */
const nested = (c: JsonCondition): unknown =>
  c.path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), c.value)

/** How a job list reads in PostgreSQL. The short id is `right(id::text, 8)`, which `jobs_short_id` indexes. */
export const pgListDialect: ListDialect = {
  placeholder: (i) => `$${i}`,
  encodeTime: (ms) => new Date(ms),
  errorFingerprint: "(last_error->>'fingerprint')",
  idMatches(m, bind) {
    const range =
      m.from === m.to
        ? `id = ${bind(m.from)}::uuid`
        : `id BETWEEN ${bind(m.from)}::uuid AND ${bind(m.to)}::uuid`
    return m.shortId === null ? range : `(${range} OR right(id::text, 8) = ${bind(m.shortId)})`
  },
  textMatches: (text, bind) => `${SEARCH_TEXT} ILIKE ${bind(containsPattern(text))}`,
  jsonCondition(c, bind) {
    const at = `(payload #> ${bind(c.path)}::text[])`
    const literal = () => `${bind(JSON.stringify(c.value))}::jsonb`
    if (c.value === null) return c.op === '=' ? `jsonb_typeof${at} = 'null'` : `jsonb_typeof${at} <> 'null'`
    // jsonb equality is exact and typed: 42 = 42.0, but 42 <> "42" and true <> 1. The containment
    // beside it says no more (it holds whenever the equality does) but is what `jobs_payload` answers.
    if (c.op === '=') return `(payload @> ${bind(JSON.stringify(nested(c)))}::jsonb AND ${at} = ${literal()})`
    const type = typeof c.value === 'number' ? 'number' : typeof c.value === 'string' ? 'string' : 'boolean'
    const op = c.op === '!=' ? '<>' : c.op
    // Strings order by their bytes (COLLATE "C"), as SQLite's do, whatever the database's collation.
    const value =
      type === 'string'
        ? `(payload #>> ${bind(c.path)}::text[]) COLLATE "C" ${op} ${bind(c.value)}::text`
        : `${at} ${op} ${literal()}`
    return `(jsonb_typeof${at} = '${type}' AND ${value})`
  },
}

export async function listJobs(ctx: PgContext, p: ListJobsParams): Promise<Job[]> {
  const q = buildListJobsQuery(p, pgListDialect)
  return (await searching(ctx, p, q.sql, q.values)).map((r) => rowToJob(r, decode))
}

export async function countMatchingJobs(ctx: PgContext, p: JobFilter, upTo: number): Promise<number> {
  const q = buildCountJobsQuery(p, pgListDialect, upTo)
  const [row] = await searching(ctx, p, q.sql, q.values)
  return Number(row?.n ?? 0)
}

/**
 * Runs a job list's statement; with `search` or `where`, in a transaction of
 * its own with a statement_timeout of ctx.searchTimeoutMs, so that a search
 * that would scan for minutes (a pathological pattern over large payloads)
 * is stopped and refused instead of holding a connection and a core.
 */
async function searching(ctx: PgContext, p: JobFilter, sql: string, values: unknown[]) {
  const what = searchOption(p)
  if (what === null) return ctx.query(sql, values)
  try {
    return await ctx.tx(async (c) => {
      await c.query(`SET LOCAL statement_timeout = ${Math.floor(ctx.searchTimeoutMs)}`)
      return c.query(sql, values)
    })
  } catch (error) {
    // 57014: query_canceled, here by the statement_timeout.
    if ((error as { code?: string }).code === '57014') throw searchTimedOut(what, ctx.searchTimeoutMs)
    throw error
  }
}

export async function jobWorkerRegistrants(
  ctx: PgContext,
  jobIds: string[],
): Promise<Map<string, string | null>> {
  const rows = await ctx.query<{ id: string; registered_by: string | null }>(
    `SELECT j.id::text AS id, w.registered_by FROM jobs j LEFT JOIN workers w ON w.id = j.worker_id
     WHERE j.id = ANY($1::uuid[])`,
    [jobIds],
  )
  return new Map(rows.map((r) => [r.id, r.registered_by ?? null]))
}

export async function recentQueueTypes(ctx: PgContext, owner: string | null, sample: number) {
  const q = buildRecentQueueTypesQuery(owner, sample, pgListDialect)
  return ctx.query<{ queue: string; type: string }>(q.sql, q.values)
}

export async function countJobs(
  ctx: PgContext,
  queue: string | null,
  owner: string | null,
): Promise<Map<string, StatusCounts>> {
  const counts = new Map<string, StatusCounts>()
  const names =
    queue === null ? await ctx.query<{ name: string }>('SELECT name FROM queues') : [{ name: queue }]
  for (const { name } of names) counts.set(name, emptyCounts())
  const values: string[] = []
  const where: string[] = []
  if (queue !== null) where.push(`queue = $${values.push(queue)}`)
  if (owner !== null) where.push(`owner = $${values.push(owner)}`)
  const rows = await ctx.query<{ queue: string; status: keyof StatusCounts; n: number }>(
    `SELECT queue, status, count(*)::int AS n FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     GROUP BY queue, status`,
    values,
  )
  for (const row of rows) {
    const c = counts.get(row.queue) ?? emptyCounts()
    c[row.status] = row.n
    counts.set(row.queue, c)
  }
  return counts
}

export async function getBatch(ctx: PgContext, id: string): Promise<BatchSummary | null> {
  const [batch] = await ctx.query('SELECT * FROM batches WHERE id = $1', [id])
  if (!batch) return null
  const counts = await ctx.query<{ status: string; n: number; progress: number }>(BATCH_COUNTS_SQL, [id])
  return batchSummary(batch, counts, decode)
}

export async function listBatches(
  ctx: PgContext,
  p: { owner: string | null; before: string | null; limit: number },
): Promise<BatchSummary[]> {
  const rows = await ctx.query<{ id: string }>(
    `SELECT id FROM batches WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR id < $2)
     ORDER BY id DESC LIMIT $3`,
    [p.owner, p.before, p.limit],
  )
  const batches = await Promise.all(rows.map(({ id }) => getBatch(ctx, id)))
  return batches.flatMap((b) => b ?? [])
}

/**
 * Events in commit order: only those of transactions older than every
 * transaction still running, ordered by (tx, id), so nothing can commit
 * behind the cursor. The cursor is "tx:id".
 */
/**
 * A cursor of the log on PostgreSQL: the position `(tx, id)` after which to
 * read (events are in commit order by the transaction id that wrote them,
 * then their id), and, for a feed that started "now" (eventsTail), the
 * snapshot of that moment: events of transactions it saw as committed are
 * before the start. Written `tx:id`, or `tx:id@snapshot`.
 */
interface LogCursor {
  tx: bigint
  id: bigint
  snapshot: string | null
}

function parseCursor(cursor: string | null): LogCursor {
  if (cursor === null) return { tx: 0n, id: 0n, snapshot: null }
  const [position, snapshot] = cursor.split('@') as [string, string | undefined]
  const [tx, id] = position.split(':')
  return { tx: BigInt(tx ?? '0'), id: BigInt(id ?? '0'), snapshot: snapshot ?? null }
}

const formatCursor = (c: LogCursor) => `${c.tx}:${c.id}${c.snapshot === null ? '' : `@${c.snapshot}`}`

/** The snapshot's xmax: every transaction from it on started after the snapshot, so none was visible in it. */
const snapshotXmax = (snapshot: string) => BigInt(snapshot.split(':')[1] ?? '0')

/** A page of the log ends once its events' data and messages reach this many bytes. */
const EVENT_PAGE_BYTES = 256 * 1024

const EVENT_FILTERS = {
  none: '',
  job: 'AND e.job_id = $5::uuid',
  queue: 'AND e.queue = $5',
} as const

/**
 * A page of the log after `cursor`, in commit order: only events of
 * transactions older than every one still running (`tx` below the
 * snapshot's xmin), so none can commit later behind the cursor. A job's
 * events come by the events_job index; the rest by events_feed (tx, id).
 * Once caught up, the cursor moves up to that horizon, past what the filter
 * left out, so a quiet filter does not scan the same stretch again.
 */
export async function readEvents(
  ctx: PgContext,
  cursor: string | null,
  limit: number,
  filter: EventFilter = {},
): Promise<EventPage> {
  const at = parseCursor(cursor)
  const shape = filter.jobId !== undefined ? 'job' : filter.queue !== undefined ? 'queue' : 'none'
  // The page's rows are measured first (their data and message as the text sent), and only those
  // within EVENT_PAGE_BYTES are read whole: a page of large events stays small.
  const rows = await ctx.query(
    `WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
     page AS MATERIALIZED (
       SELECT e.id, e.tx, sum(coalesce(octet_length(e.data::text), 0) + coalesce(octet_length(e.message), 0))
         OVER (ORDER BY e.tx, e.id) AS running,
         row_number() OVER (ORDER BY e.tx, e.id) AS n
       FROM events e, horizon h
       WHERE (e.tx, e.id) > ($1::xid8, $2::bigint) AND e.tx < h.xmin
         AND ($4::pg_snapshot IS NULL OR NOT pg_visible_in_snapshot(e.tx, $4::pg_snapshot))
         ${EVENT_FILTERS[shape]}
       ORDER BY e.tx, e.id LIMIT $3
     )
     SELECT e.*, e.tx::text AS tx_text, h.xmin::text AS horizon, (SELECT count(*) FROM page) AS scanned
     FROM horizon h
     LEFT JOIN LATERAL (
       SELECT ev.* FROM page p JOIN events ev ON ev.id = p.id AND ev.tx = p.tx
       WHERE p.running <= ${EVENT_PAGE_BYTES} OR p.n = 1
       ORDER BY ev.tx, ev.id
     ) e ON true`,
    [
      String(at.tx),
      String(at.id),
      limit,
      at.snapshot,
      ...(shape === 'job' ? [filter.jobId] : shape === 'queue' ? [filter.queue] : []),
    ],
  )
  const found = rows.filter((r) => r.id != null)
  const events = found.map((r): StoredEvent => rowToStoredEvent(r, decode))
  // Full: as many as asked for, or cut short by size (then more are waiting).
  const full = events.length === limit || events.length < Number(rows[0]?.scanned ?? 0)
  const last = found[found.length - 1]
  let next: LogCursor = at
  if (full) next = { ...at, tx: BigInt(String(last!.tx_text)), id: BigInt(String(last!.id)) }
  else {
    // Caught up: everything below the horizon has been seen.
    const horizon = BigInt(String(rows[0]!.horizon))
    if (horizon > at.tx) next = { ...at, tx: horizon, id: 0n }
    else if (last) next = { ...at, tx: BigInt(String(last.tx_text)), id: BigInt(String(last.id)) }
  }
  // Past the start snapshot's xmax nothing was visible in it: the snapshot has done its work.
  if (next.snapshot !== null && next.tx >= snapshotXmax(next.snapshot)) next = { ...next, snapshot: null }
  return { events, cursor: formatCursor(next), more: full }
}

/**
 * The start of a feed that begins now: the current snapshot, so that
 * reading on returns exactly the events committed after this moment, those
 * of transactions then in progress included, and none committed before.
 */
export async function eventsTail(ctx: PgContext): Promise<string | null> {
  const [row] = await ctx.query<{ xmin: string; snapshot: string }>(
    'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin, pg_current_snapshot()::text AS snapshot',
  )
  return formatCursor({ tx: BigInt(row!.xmin), id: 0n, snapshot: row!.snapshot })
}

export async function eventCursorAfter(ctx: PgContext, id: number): Promise<string | null> {
  const [row] = await ctx.query('SELECT tx, id FROM events WHERE id = $1', [id])
  return row ? `${row.tx}:${row.id}` : null
}

export async function listArtifacts(ctx: PgContext, jobId: string): Promise<Artifact[]> {
  return (await ctx.query('SELECT * FROM artifacts WHERE job_id = $1 ORDER BY created_at, id', [jobId])).map(
    (r) => rowToArtifact(r, decode),
  )
}

export async function getArtifact(ctx: PgContext, id: string): Promise<Artifact | null> {
  const [row] = await ctx.query('SELECT * FROM artifacts WHERE id = $1', [id])
  return row ? rowToArtifact(row, decode) : null
}

export async function finishedJobs(
  ctx: PgContext,
  queue: string | null,
  sinceMs: number,
  limit: number,
): Promise<FinishedJobRow[]> {
  const rows = await ctx.query(
    `SELECT status, created_at, started_at, finished_at, duration_ms,
       last_error->>'name' = '${EXPIRED_ERROR_NAME}' AS expired FROM jobs
     WHERE finished_at >= $1 AND ($2::text IS NULL OR queue = $2) ORDER BY finished_at DESC LIMIT $3`,
    [new Date(sinceMs), queue, limit],
  )
  return rows.map((r) => ({
    status: r.status as FinishedJobRow['status'],
    createdAt: (r.created_at as Date).getTime(),
    startedAt: r.started_at == null ? null : (r.started_at as Date).getTime(),
    finishedAt: (r.finished_at as Date).getTime(),
    durationMs: r.duration_ms == null ? null : Number(r.duration_ms),
    expired: r.expired === true,
  }))
}
