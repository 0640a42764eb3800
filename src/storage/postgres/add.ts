import { assertAcyclic, missingDependency, sameOwner } from '../../core/dependencies.js'
import { conflict, notFound } from '../../core/errors.js'
import type { NewJob, QueueRecord } from '../../core/resolve.js'
import { initialStatus } from '../../core/states.js'
import type { Job, JobStatus } from '../../core/types.js'
import { rowToJob, rowToQueueRecord } from '../rows.js'
import type { AddJobsResult, ArtifactRecord, BatchRecord } from '../store.js'
import { decode, type PgContext, type Queryable } from './db.js'

const LIVE = `('waiting','scheduled','blocked','held','active')`
const CHUNK = 5000

interface Planned {
  job: NewJob
  status: JobStatus
  runAtMs: number
  pending: number
  dependsOn: string[]
}

export async function addJobs(
  ctx: PgContext,
  queueNames: string[],
  build: (queues: Map<string, QueueRecord>) => NewJob[],
  extras: { batch?: BatchRecord; artifacts?: ArtifactRecord[] } = {},
): Promise<AddJobsResult> {
  const { batch, artifacts = [] } = extras
  // A concurrent add can take a dedupe key between our look-up and our insert;
  // trying again then finds that job and returns it, as the dedupe contract says.
  for (let attempt = 1; ; attempt++) {
    try {
      return await addOnce(ctx, queueNames, build, batch, artifacts)
    } catch (error) {
      const e = error as { code?: string; constraint?: string }
      if (e?.code === '23505' && e.constraint === 'jobs_dedupe' && attempt < 5) continue
      throw translateUniqueViolation(error)
    }
  }
}

async function addOnce(
  ctx: PgContext,
  queueNames: string[],
  build: (queues: Map<string, QueueRecord>) => NewJob[],
  batch: BatchRecord | undefined,
  artifacts: ArtifactRecord[],
): Promise<AddJobsResult> {
  return ctx.tx(async (c) => {
    if (batch) {
      await c.query('INSERT INTO batches (id, name, owner) VALUES ($1, $2, $3)', [
        batch.id,
        batch.name,
        batch.owner,
      ])
    }
    const result = await addInTransaction(c, queueNames, build)
    // A deduplicated job's files belong to no job: only those of jobs inserted here are recorded.
    const inserted = new Set(result.jobs.filter((_, i) => !result.deduplicated[i]).map((j) => j.id))
    for (const a of artifacts) if (inserted.has(a.jobId)) await insertArtifact(c, a)
    return result
  })
}

async function addInTransaction(
  c: Queryable,
  queueNames: string[],
  build: (queues: Map<string, QueueRecord>) => NewJob[],
): Promise<AddJobsResult> {
  const names = [...new Set(queueNames)]
  // KEY SHARE keeps the queues from being deleted under us without blocking claimers.
  const rows = await c.query('SELECT *, now() AS db_now FROM queues WHERE name = ANY($1) FOR KEY SHARE', [
    names,
  ])
  const queues = new Map(rows.map((r) => [String(r.name), rowToQueueRecord(r, decode)]))
  const missing = names.find((n) => !queues.has(n))
  if (missing !== undefined) throw notFound('queue', missing)
  const now = (rows[0]!.db_now as Date).getTime()

  const jobs = build(queues)
  assertAcyclic(jobs)
  const existing = await findLiveDuplicates(c, jobs)
  const upstreamStatus = await lockExternalDependencies(c, jobs)

  const result: AddJobsResult = { jobs: [], deduplicated: [] }
  const renamed = new Map<string, string>()
  const planned: Planned[] = []
  const slots: (Job | string)[] = []
  const plannedIds = new Set<string>()
  const byKey = new Map<string, string>()

  for (const job of jobs) {
    const key = job.dedupeKey === null ? null : dedupeSlot(job.queue, job.owner, job.dedupeKey)
    const twin = key === null ? undefined : (existing.get(key) ?? byKey.get(key))
    if (twin !== undefined) {
      renamed.set(job.id, typeof twin === 'string' ? twin : twin.id)
      slots.push(twin)
      result.deduplicated.push(true)
      continue
    }
    const dependsOn = job.dependsOn.map((id) => renamed.get(id) ?? id)
    let pending = 0
    for (const upstream of dependsOn) {
      if (plannedIds.has(upstream)) pending++
      else if (upstreamStatus.get(upstream) !== 'completed') pending++
    }
    const runAtMs = job.runAt ? job.runAt.getTime() : now + job.delayMs
    const status = initialStatus({
      pendingDependencies: pending,
      manual: queues.get(job.queue)!.mode === 'manual',
      runAt: new Date(runAtMs),
      now: new Date(now),
    })
    planned.push({ job, status, runAtMs, pending, dependsOn })
    plannedIds.add(job.id)
    if (key !== null) byKey.set(key, job.id)
    slots.push(job.id)
    result.deduplicated.push(false)
  }

  const inserted = new Map<string, Job>()
  for (let i = 0; i < planned.length; i += CHUNK) {
    for (const job of await insertJobs(c, planned.slice(i, i + CHUNK))) inserted.set(job.id, job)
  }
  await insertDependencies(c, planned)
  result.jobs = slots.map((slot) => (typeof slot === 'string' ? inserted.get(slot)! : slot))
  return result
}

/** Where a dedupe key lives: per queue and per owner (jobs without an owner share one place). */
const dedupeSlot = (queue: string, owner: string | null, key: string) =>
  `${queue}\u0000${owner ?? ''}\u0000${key}`

/** Live jobs already holding a dedupe key used by one of `jobs`, keyed by their dedupe slot. */
async function findLiveDuplicates(c: Queryable, jobs: NewJob[]): Promise<Map<string, Job>> {
  const keyed = jobs.filter((j) => j.dedupeKey !== null)
  if (keyed.length === 0) return new Map()
  const rows = await c.query(
    `SELECT j.* FROM jobs j JOIN unnest($1::text[], $2::text[], $3::text[]) AS t(queue, owner, key)
       ON j.queue = t.queue AND coalesce(j.owner, '') = t.owner AND j.dedupe_key = t.key
     WHERE j.status IN ${LIVE}`,
    [keyed.map((j) => j.queue), keyed.map((j) => j.owner ?? ''), keyed.map((j) => j.dedupeKey)],
  )
  return new Map(
    rows.map((r) => [
      dedupeSlot(String(r.queue), (r.owner as string | null) ?? null, String(r.dedupe_key)),
      rowToJob(r, decode),
    ]),
  )
}

/**
 * Reads, and share-locks, the stored jobs that new jobs depend on, so none of
 * them can complete between our count of pending dependencies and our commit.
 */
async function lockExternalDependencies(c: Queryable, jobs: NewJob[]): Promise<Map<string, JobStatus>> {
  const ownIds = new Map(jobs.map((j) => [j.id, j.owner]))
  for (const job of jobs) {
    for (const upstream of job.dependsOn) {
      if (ownIds.has(upstream) && !sameOwner(ownIds.get(upstream)!, job.owner))
        throw missingDependency(job.id, upstream)
    }
  }
  const external = [...new Set(jobs.flatMap((j) => j.dependsOn).filter((id) => !ownIds.has(id)))]
  if (external.length === 0) return new Map()
  const rows = await c.query<{ id: string; status: JobStatus; owner: string | null }>(
    'SELECT id, status, owner FROM jobs WHERE id = ANY($1::uuid[]) FOR SHARE',
    [external],
  )
  const statuses = new Map(rows.map((r) => [r.id, r.status]))
  const owners = new Map(rows.map((r) => [r.id, r.owner]))
  for (const job of jobs) {
    for (const upstream of job.dependsOn) {
      if (ownIds.has(upstream)) continue
      const status = statuses.get(upstream)
      if (status === undefined || !sameOwner(owners.get(upstream) ?? null, job.owner)) {
        throw missingDependency(job.id, upstream)
      }
      if (status === 'failed' || status === 'cancelled') {
        throw conflict(
          `job '${job.id}' cannot depend on job '${upstream}': it is ${status} and will never complete`,
          {
            id: upstream,
            status,
          },
        )
      }
    }
  }
  return statuses
}

async function insertJobs(c: Queryable, planned: Planned[]): Promise<Job[]> {
  const col = <T>(f: (p: Planned) => T) => planned.map(f)
  const rows = await c.query(
    `WITH ins AS (
       INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, timeout_ms,
         owner, batch_id, capabilities, dedupe_key, pending_deps, created_at, estimated_duration_ms)
       SELECT t.id, t.queue, t.type, t.payload::jsonb, t.status, t.priority,
         to_timestamp(t.run_at_ms / 1000.0), t.max_attempts, t.backoff::jsonb, t.timeout_ms,
         t.owner, t.batch_id,
         CASE WHEN t.caps IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(t.caps::jsonb)) END,
         t.dedupe_key, t.pending, now(), t.estimated
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::float8[], $8::int[],
         $9::text[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::int[], $16::bigint[])
         AS t(id, queue, type, payload, status, priority, run_at_ms, max_attempts, backoff, timeout_ms,
              owner, batch_id, caps, dedupe_key, pending, estimated)
       RETURNING *
     ), ev AS (
       INSERT INTO events (job_id, queue, kind, status) SELECT id, queue, 'added', status FROM ins
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
      col((p) => p.runAtMs),
      col((p) => p.job.maxAttempts),
      col((p) => JSON.stringify(p.job.backoff)),
      col((p) => p.job.timeoutMs),
      col((p) => p.job.owner),
      col((p) => p.job.batchId),
      col((p) => (p.job.capabilities.length > 0 ? JSON.stringify(p.job.capabilities) : null)),
      col((p) => p.job.dedupeKey),
      col((p) => p.pending),
      col((p) => p.job.estimatedDurationMs),
    ],
  )
  return rows.map((r) => rowToJob(r, decode))
}

async function insertDependencies(c: Queryable, planned: Planned[]): Promise<void> {
  const edges = planned.flatMap((p) => p.dependsOn.map((upstream) => [p.job.id, upstream] as const))
  if (edges.length === 0) return
  await c.query(
    `INSERT INTO job_dependencies (job_id, depends_on)
     SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING`,
    [edges.map((e) => e[0]), edges.map((e) => e[1])],
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
    const id = /\(id\)=\(([^)]+)\)/.exec(e.detail ?? '')?.[1] ?? 'unknown'
    return conflict(`a job with id '${id}' already exists`, { id })
  }
  if (e.constraint === 'jobs_dedupe') {
    return conflict('a live job with the same dedupe key was added concurrently; add again to get it', {
      constraint: 'dedupe_key',
    })
  }
  return error
}

export async function insertArtifact(c: Queryable, a: ArtifactRecord): Promise<void> {
  await c.query(
    `INSERT INTO artifacts (id, job_id, direction, name, media_type, size, sha256, storage_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [a.id, a.jobId, a.direction, a.name, a.mediaType, a.size, a.sha256, a.storageKey],
  )
}
