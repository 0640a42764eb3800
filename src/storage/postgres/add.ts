import { type DedupeMode, type Replacement, replacedMessage } from '../../core/dedupe.js'
import { conflict, invalidArgument, notFound } from '../../core/errors.js'
import {
  dedupeSlot,
  type InsertPlan,
  insertLookups,
  jobIdTaken,
  type PlannedJob,
  type PlannedSlot,
  planInsert,
  type StoredUpstream,
} from '../../core/insert.js'
import type { NewJob, QueueRecord } from '../../core/resolve.js'
import { FINAL_STATUSES, type Job, type JobStatus } from '../../core/types.js'
import { rowToJob, rowToQueueRecord } from '../rows.js'
import { LIVE, statusList } from '../sql.js'
import type { AddJobsResult, ArtifactRecord, BatchRecord, CallerTransaction } from '../store.js'
import { NOW } from './clock.js'
import { decode, type PgContext, type Queryable, refusedText, StatementNames } from './db.js'

/** Names for Docket's statements on callers' own connections (see inCallerTransaction). */
const callerStatements = new StatementNames()
/** Callers' connections that run Docket's statements unnamed (a plan went stale under them). */
const unnamed = new WeakSet<object>()

const FINAL = statusList(FINAL_STATUSES)

const CHUNK = 5000

/**
 * The queues this context last read, each with its row as text. A plain add
 * (see isPlain) resolves its queue's defaults from here and is one statement,
 * with no transaction around it: the insert happens only if each queue's row
 * still reads as it did, so a queue changed or deleted since is noticed and
 * the add takes the full path, which reads the queues again.
 */
const knownQueues = new WeakMap<PgContext, Map<string, { record: QueueRecord; text: string }>>()

/** Jobs whose insert needs nothing read first: no dependencies, dedupe key, fixed run time or expiry. */
const isPlain = (j: NewJob) =>
  j.dependsOn.length === 0 &&
  j.dedupeKey === null &&
  j.runAt === null &&
  j.expiresAt === null &&
  j.expiresInMs === null

export async function addJobs(
  ctx: PgContext,
  queueNames: string[],
  build: (queues: Map<string, QueueRecord>) => NewJob[],
  extras: { batch?: BatchRecord; artifacts?: ArtifactRecord[]; transaction?: CallerTransaction } = {},
): Promise<AddJobsResult> {
  const { batch, artifacts = [], transaction } = extras
  if (!transaction && !batch && artifacts.length === 0) {
    const added = await addPlain(ctx, queueNames, build).catch((error) => {
      throw translateUniqueViolation(error)
    })
    if (added) return added
  }
  const inTransaction: Transact = transaction
    ? (fn) => inCallerTransaction(ctx.schema, transaction, fn)
    : (fn) => ctx.tx(fn)
  // A concurrent add can take a dedupe key between our look-up and our insert;
  // trying again then finds that job and returns it, as the dedupe contract says.
  for (let attempt = 1; ; attempt++) {
    try {
      return await addOnce(ctx, inTransaction, queueNames, build, batch, artifacts)
    } catch (error) {
      const e = error as { code?: string; constraint?: string }
      if (e?.code === '23505' && e.constraint === 'jobs_dedupe' && attempt < 5) continue
      // A stale prepared statement on the caller's connection: undone by the savepoint, tried again unnamed.
      if (e?.code === '0A000' && transaction && attempt < 5) continue
      throw translateUniqueViolation(error)
    }
  }
}

type Transact = <T>(fn: (c: Queryable) => Promise<T>) => Promise<T>

/**
 * Runs `fn` inside the caller's open transaction, under a savepoint: a refused
 * add (a missing queue, a dedupe race to retry) undoes only its own writes and
 * leaves the caller's transaction usable. Docket's schema goes first on the
 * search_path meanwhile, and the caller's path is put back after, so their
 * own unqualified names mean what they meant. The ready notification is sent
 * in the same transaction: workers hear of the job when the caller commits,
 * and never if they roll back.
 */
async function inCallerTransaction<T>(
  schema: string,
  client: CallerTransaction,
  fn: (c: Queryable) => Promise<T>,
): Promise<T> {
  // A node-postgres client takes named statements: Docket's statements are then parsed and planned
  // once per connection, as on its own pool, instead of on every add.
  // A connection whose prepared statement no longer fits the schema (another process migrated it:
  // "cached plan must not change result type") runs unnamed from then on; the add is tried again.
  const named = typeof (client as { connection?: unknown }).connection === 'object' && !unnamed.has(client)
  const run = async (sql: string, values?: unknown[]) => {
    const name = named && values?.length ? callerStatements.nameFor(sql) : null
    if (name === null) return (await client.query(sql, values)).rows
    const query = client.query as unknown as (q: object) => Promise<{ rows: Record<string, unknown>[] }>
    try {
      return (await query.call(client, { name, text: sql, values })).rows
    } catch (error) {
      if ((error as { code?: string }).code === '0A000') unnamed.add(client)
      throw error
    }
  }
  const c: Queryable = {
    async query(sql, values) {
      try {
        return (await run(sql, values)) as never
      } catch (error) {
        throw refusedText(error)
      }
    },
  }
  try {
    // One round trip: the savepoint, the caller's path kept aside, Docket's schema put first.
    await client.query(
      `SAVEPOINT docket_add; SELECT set_config('docket.caller_search_path', current_setting('search_path'), true),
        set_config('search_path', '"${schema}", ' || current_setting('search_path'), true)`,
    )
  } catch (error) {
    // no_active_sql_transaction: a savepoint outside BEGIN.
    if ((error as { code?: string }).code !== '25P01') throw error
    throw invalidArgument('the client is not in a transaction: call BEGIN on it before adding with it', [
      { path: 'client', message: 'expected a connection inside BEGIN' },
    ])
  }
  try {
    const result = await fn(c)
    await client.query(
      "SELECT set_config('search_path', current_setting('docket.caller_search_path'), true); RELEASE SAVEPOINT docket_add",
    )
    return result
  } catch (error) {
    // Also undoes the search_path change.
    await client.query('ROLLBACK TO SAVEPOINT docket_add; RELEASE SAVEPOINT docket_add').catch(() => {})
    throw error
  }
}

async function addOnce(
  ctx: PgContext,
  inTransaction: Transact,
  queueNames: string[],
  build: (queues: Map<string, QueueRecord>) => NewJob[],
  batch: BatchRecord | undefined,
  artifacts: ArtifactRecord[],
): Promise<AddJobsResult> {
  return inTransaction(async (c) => {
    if (batch) {
      await c.query(
        `INSERT INTO batches (id, name, owner, created_at, then_job_id) VALUES ($1, $2, $3, ${NOW(4)}, $5)`,
        [batch.id, batch.name, batch.owner, ctx.clockNow(), batch.thenJobId ?? null],
      )
    }
    const result = await addInTransaction(ctx, c, queueNames, build)
    // A deduplicated job's files belong to no job: only those of jobs inserted here are recorded.
    const inserted = new Set(result.jobs.filter((_, i) => !result.deduplicated[i]).map((j) => j.id))
    for (const a of artifacts) if (inserted.has(a.jobId)) await insertArtifact(c, a, ctx.clockNow())
    return result
  })
}

/**
 * One statement, one round trip: the common add. Null when the jobs are not
 * plain or a queue is not known as it is now; the caller then takes the full path.
 */
async function addPlain(
  ctx: PgContext,
  queueNames: string[],
  build: (queues: Map<string, QueueRecord>) => NewJob[],
): Promise<AddJobsResult | null> {
  const known = knownQueues.get(ctx)
  const names = [...new Set(queueNames)]
  if (!known || !names.every((n) => known.has(n))) return null
  const queues = new Map(names.map((n) => [n, known.get(n)!.record]))
  let jobs: NewJob[]
  try {
    jobs = build(queues)
  } catch {
    // Refused by a queue as this process last read it: the full path decides with the queue as it is now.
    return null
  }
  if (!jobs.every(isPlain)) return null
  // A plain job's status does not depend on the time (held, scheduled when delayed, else waiting),
  // so any clock plans it; the statement counts its run time from the database's.
  const plan = planInsert({ jobs, queues, now: Date.now(), duplicates: new Map(), upstream: new Map() })
  const inserted = await insertJobs(ctx, plan.inserts, ctx.clockNow(), {
    names,
    texts: names.map((n) => known.get(n)!.text),
  })
  if (inserted.length === 0) return null
  return { jobs: inserted, deduplicated: inserted.map(() => false) }
}

export async function addInTransaction(
  ctx: PgContext,
  c: Queryable,
  queueNames: string[],
  build: (queues: Map<string, QueueRecord>) => NewJob[],
): Promise<AddJobsResult> {
  const names = [...new Set(queueNames)]
  // KEY SHARE keeps the queues from being deleted under us without blocking claimers.
  const rows = await c.query(
    `SELECT q.*, q::text AS row_text, ${NOW(2)} AS db_now FROM queues q WHERE name = ANY($1) FOR KEY SHARE`,
    [names, ctx.clockNow()],
  )
  const queues = new Map(rows.map((r) => [String(r.name), rowToQueueRecord(r, decode)]))
  rememberQueues(ctx, rows, queues)
  const missing = names.find((n) => !queues.has(n))
  if (missing !== undefined) throw notFound('queue', missing)
  const now = (rows[0]!.db_now as Date).getTime()

  const jobs = build(queues)
  const lookups = insertLookups(jobs)
  const plan = planInsert({
    jobs,
    queues,
    now,
    duplicates: await findLiveDuplicates(c, lookups.keyed),
    upstream: await lockUpstream(c, lookups.upstream),
    recent: await findRecentlyFinished(c, lookups.recent, now),
  })
  // A running job that gives its key to a job queued after it lets go of it first (the key is unique among live jobs).
  if (plan.keysReleased.length > 0)
    await c.query('UPDATE jobs SET dedupe_key = NULL WHERE id = ANY($1::uuid[])', [plan.keysReleased])
  const replaced = new Map<string, Job>()
  for (const r of plan.replacements) replaced.set(r.id, await replaceJob(c, r, plan.slots, now))
  const inserted = new Map<string, Job>()
  for (let i = 0; i < plan.inserts.length; i += CHUNK) {
    for (const job of await insertJobs(c, plan.inserts.slice(i, i + CHUNK), new Date(now)))
      inserted.set(job.id, job)
  }
  await insertDependencies(c, plan.edges)
  return {
    jobs: plan.slots.map((slot) =>
      'stored' in slot ? (replaced.get(slot.stored.id) ?? slot.stored) : inserted.get(slot.id)!,
    ),
    deduplicated: plan.slots.map((slot) => slot.deduplicated),
  }
}

function rememberQueues(ctx: PgContext, rows: Record<string, unknown>[], queues: Map<string, QueueRecord>) {
  const known = knownQueues.get(ctx) ?? new Map()
  knownQueues.set(ctx, known)
  for (const r of rows)
    known.set(String(r.name), { record: queues.get(String(r.name))!, text: String(r.row_text) })
}

/**
 * Live jobs already holding a dedupe key used by one of `keyed`, by dedupe
 * slot; locked when one of them may be replaced, so that no claim starts it
 * between the read and the replace (claims skip locked rows).
 */
async function findLiveDuplicates(c: Queryable, keyed: NewJob[]): Promise<Map<string, Job>> {
  if (keyed.length === 0) return new Map()
  const lock = keyed.some((j) => j.dedupeMode !== 'keep') ? 'FOR UPDATE OF j' : ''
  const rows = await c.query(
    `SELECT j.* FROM jobs j JOIN unnest($1::text[], $2::text[], $3::text[]) AS t(queue, owner, key)
       ON j.queue = t.queue AND coalesce(j.owner, '') = t.owner AND j.dedupe_key = t.key
     WHERE j.status IN ${LIVE} ${lock}`,
    [keyed.map((j) => j.queue), keyed.map((j) => j.owner ?? ''), keyed.map((j) => j.dedupeKey)],
  )
  return new Map(
    rows.map((r) => [
      dedupeSlot(String(r.queue), (r.owner as string | null) ?? null, String(r.dedupe_key)),
      rowToJob(r, decode),
    ]),
  )
}

/** For keyed jobs with a dedupeTtlMs: the newest job with the key that finished within it, by dedupe slot. */
async function findRecentlyFinished(c: Queryable, keyed: NewJob[], now: number): Promise<Map<string, Job>> {
  if (keyed.length === 0) return new Map()
  const rows = await c.query(
    `SELECT DISTINCT ON (j.queue, coalesce(j.owner, ''), j.dedupe_key) j.*
     FROM jobs j JOIN unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS t(queue, owner, key, since_ms)
       ON j.queue = t.queue AND coalesce(j.owner, '') = t.owner AND j.dedupe_key = t.key
     WHERE j.status IN ${FINAL} AND j.finished_at > to_timestamp(t.since_ms / 1000.0)
     ORDER BY j.queue, coalesce(j.owner, ''), j.dedupe_key, j.finished_at DESC`,
    [
      keyed.map((j) => j.queue),
      keyed.map((j) => j.owner ?? ''),
      keyed.map((j) => j.dedupeKey),
      keyed.map((j) => now - j.dedupeTtlMs!),
    ],
  )
  return new Map(
    rows.map((r) => [
      dedupeSlot(String(r.queue), (r.owner as string | null) ?? null, String(r.dedupe_key)),
      rowToJob(r, decode),
    ]),
  )
}

/** Writes a replace or debounce onto a live job that has not started (core/dedupe.ts). */
async function replaceJob(c: Queryable, r: Replacement, slots: PlannedSlot[], now: number): Promise<Job> {
  const at = new Date(now)
  const [row] = await c.query(
    `WITH before AS (SELECT id, status FROM jobs WHERE id = $1)
     UPDATE jobs j SET payload = $2::jsonb, priority = $3, max_attempts = $4, backoff = $5::jsonb, timeout_ms = $6,
       capabilities = CASE WHEN $7::text IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text($7::jsonb)) END,
       estimated_duration_ms = $8, expires_at = to_timestamp($9::float8 / 1000.0),
       run_at = to_timestamp($10::float8 / 1000.0), status = $11
     FROM before WHERE j.id = before.id AND j.status <> 'active'
     RETURNING j.*, before.status AS status_before`,
    [
      r.id,
      JSON.stringify(r.payload),
      r.priority,
      r.maxAttempts,
      JSON.stringify(r.backoff),
      r.timeoutMs,
      r.capabilities.length > 0 ? JSON.stringify(r.capabilities) : null,
      r.estimatedDurationMs,
      r.expiresAtMs,
      r.runAtMs,
      r.status,
    ],
  )
  const job = rowToJob(row!, decode)
  const slot = slots.find((s) => 'stored' in s && s.stored.id === r.id && s.replaced) as {
    replaced: DedupeMode
  }
  await c.query(`INSERT INTO events (job_id, queue, kind, message, at) VALUES ($1, $2, 'log', $3, $4)`, [
    r.id,
    job.queue,
    replacedMessage(slot.replaced),
    at,
  ])
  if (row!.status_before !== job.status)
    await c.query(`INSERT INTO events (job_id, queue, kind, status, at) VALUES ($1, $2, 'state', $3, $4)`, [
      r.id,
      job.queue,
      job.status,
      at,
    ])
  if (job.status === 'waiting')
    await c.query(`SELECT pg_notify('docket_ready_' || current_schema(), $1)`, [job.queue])
  return job
}

/**
 * Reads, and share-locks, the stored jobs that new jobs depend on, so none of
 * them can complete between the plan's count of pending dependencies and our commit.
 */
async function lockUpstream(c: Queryable, ids: string[]): Promise<Map<string, StoredUpstream>> {
  if (ids.length === 0) return new Map()
  const rows = await c.query<{ id: string; status: JobStatus; owner: string | null }>(
    'SELECT id, status, owner FROM jobs WHERE id = ANY($1::uuid[]) FOR SHARE',
    [ids],
  )
  return new Map(rows.map((r) => [r.id, { status: r.status, owner: r.owner }]))
}

/**
 * Inserts planned jobs with their `added` events, and wakes workers of the
 * ready ones. `now` null: the database's clock. With `unchanged`, it inserts
 * nothing unless each named queue's row still reads as the given text, and
 * a job's run time is its delay from now (a plain add: see addPlain).
 */
async function insertJobs(
  c: Queryable,
  planned: PlannedJob[],
  now: Date | null,
  unchanged?: { names: string[]; texts: string[] },
): Promise<Job[]> {
  const col = <T>(f: (p: PlannedJob) => T) => planned.map(f)
  const rows = await c.query(
    `WITH fresh AS (
       SELECT q.name FROM queues q JOIN unnest($22::text[], $23::text[]) AS g(name, row_text)
         ON q.name = g.name AND q::text = g.row_text
       FOR KEY SHARE OF q
     ), ins AS (
       INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, timeout_ms,
         owner, batch_id, capabilities, dedupe_key, pending_deps, created_at, estimated_duration_ms,
         traceparent, tracestate, expires_at, group_key)
       SELECT t.id, t.queue, t.type, t.payload::jsonb, t.status, t.priority,
         coalesce(to_timestamp(t.run_at_ms / 1000.0), ${NOW(17)} + t.delay_ms * interval '1 millisecond'),
         t.max_attempts, t.backoff::jsonb, t.timeout_ms,
         t.owner, t.batch_id,
         CASE WHEN t.caps IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(t.caps::jsonb)) END,
         t.dedupe_key, t.pending, ${NOW(17)}, t.estimated, t.traceparent, t.tracestate,
         to_timestamp(t.expires_at_ms / 1000.0), t.group_key
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::float8[], $8::int[],
         $9::text[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::int[], $16::bigint[],
         $18::text[], $19::text[], $20::float8[], $21::text[], $24::bigint[])
         AS t(id, queue, type, payload, status, priority, run_at_ms, max_attempts, backoff, timeout_ms,
              owner, batch_id, caps, dedupe_key, pending, estimated, traceparent, tracestate, expires_at_ms, group_key,
              delay_ms)
       WHERE $22::text[] IS NULL OR (SELECT count(*) FROM fresh) = cardinality($22::text[])
       RETURNING *
     ), ev AS (
       INSERT INTO events (job_id, queue, kind, status, at) SELECT id, queue, 'added', status, created_at FROM ins
     ), wake AS (
       -- Wakes idle workers when this transaction commits, without another round trip.
       SELECT count(pg_notify('docket_ready_' || current_schema(), queue)) AS n
       FROM (SELECT DISTINCT queue FROM ins WHERE status = 'waiting') ready
     )
     SELECT ins.* FROM ins, wake`,
    [
      col((p) => p.job.id),
      col((p) => p.job.queue),
      col((p) => p.job.type),
      col((p) => JSON.stringify(p.job.payload)),
      col((p) => p.status),
      col((p) => p.job.priority),
      col((p) => (unchanged ? null : p.runAtMs)),
      col((p) => p.job.maxAttempts),
      col((p) => JSON.stringify(p.job.backoff)),
      col((p) => p.job.timeoutMs),
      col((p) => p.job.owner),
      col((p) => p.job.batchId),
      col((p) => (p.job.capabilities.length > 0 ? JSON.stringify(p.job.capabilities) : null)),
      col((p) => p.job.dedupeKey),
      col((p) => p.pending),
      col((p) => p.job.estimatedDurationMs),
      now,
      col((p) => p.job.traceContext?.traceparent ?? null),
      col((p) => p.job.traceContext?.tracestate ?? null),
      col((p) => p.expiresAtMs),
      col((p) => p.job.group),
      unchanged?.names ?? null,
      unchanged?.texts ?? null,
      col((p) => p.job.delayMs),
    ],
  )
  return rows.map((r) => rowToJob(r, decode))
}

async function insertDependencies(c: Queryable, edges: InsertPlan['edges']): Promise<void> {
  if (edges.length === 0) return
  await c.query(
    `INSERT INTO job_dependencies (job_id, depends_on, type)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[]) ON CONFLICT DO NOTHING`,
    [edges.map((e) => e[0]), edges.map((e) => e[1]), edges.map((e) => e[2])],
  )
  await c.query('UPDATE jobs SET has_dependents = true WHERE id = ANY($1::uuid[]) AND NOT has_dependents', [
    [...new Set(edges.map((e) => e[1]))],
  ])
}

/** A concurrent add can win a race for an id or a dedupe key; say so as a CONFLICT, not a 500. */
function translateUniqueViolation(error: unknown): unknown {
  const e = error as { code?: string; constraint?: string; detail?: string }
  if (e?.code !== '23505') return error
  if (e.constraint === 'jobs_pkey') {
    return jobIdTaken(/\(id\)=\(([^)]+)\)/.exec(e.detail ?? '')?.[1] ?? 'unknown')
  }
  if (e.constraint === 'jobs_dedupe') {
    return conflict('a live job with the same dedupe key was added concurrently; add again to get it', {
      constraint: 'dedupe_key',
    })
  }
  return error
}

export async function insertArtifact(c: Queryable, a: ArtifactRecord, now: Date | null): Promise<void> {
  await c.query(
    `INSERT INTO artifacts (id, job_id, direction, name, media_type, size, sha256, storage_key, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ${NOW(9)})`,
    [a.id, a.jobId, a.direction, a.name, a.mediaType, a.size, a.sha256, a.storageKey, now],
  )
}
