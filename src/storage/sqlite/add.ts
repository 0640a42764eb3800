import { assertAcyclic, missingDependency, sameOwner } from '../../core/dependencies.js'
import { conflict, notFound } from '../../core/errors.js'
import type { NewJob, QueueRecord } from '../../core/resolve.js'
import { initialStatus } from '../../core/states.js'
import type { Job, JobStatus } from '../../core/types.js'
import { rowToJob, rowToQueueRecord } from '../rows.js'
import type { AddJobsResult, ArtifactRecord, BatchRecord } from '../store.js'
import { decode, type SqliteContext } from './db.js'
import { insertEvent } from './events.js'

const LIVE = `('waiting','scheduled','blocked','held','active')`

export function addJobs(
  ctx: SqliteContext,
  queueNames: string[],
  build: (queues: Map<string, QueueRecord>) => NewJob[],
  extras: { batch?: BatchRecord; artifacts?: ArtifactRecord[] } = {},
): AddJobsResult {
  const { batch, artifacts = [] } = extras
  return ctx.tx(() => {
    const now = ctx.now()
    if (batch) {
      ctx
        .stmt('INSERT INTO batches (id, name, owner, created_at) VALUES (?, ?, ?, ?)')
        .run(batch.id, batch.name, batch.owner, now)
    }
    const queues = loadQueues(ctx, queueNames)
    const jobs = build(queues)
    assertAcyclic(jobs)
    const result: AddJobsResult = { jobs: [], deduplicated: [] }
    // A deduplicated job keeps the id of the live job it matched; later jobs in the
    // same call that depend on it are pointed there.
    const renamed = new Map<string, string>()
    const ownIds = new Map(jobs.map((j) => [j.id, j.owner]))
    const edges: (readonly [string, string])[] = []

    for (const job of jobs) {
      const existing = job.dedupeKey ? findLiveByDedupeKey(ctx, job, job.dedupeKey) : null
      if (existing) {
        renamed.set(job.id, existing.id)
        result.jobs.push(existing)
        result.deduplicated.push(true)
        continue
      }
      const dependsOn = job.dependsOn.map((id) => renamed.get(id) ?? id)
      const pending = countPendingDependencies(ctx, job, dependsOn, ownIds)
      const queue = queues.get(job.queue)!
      const runAt = job.runAt ? job.runAt.getTime() : now + job.delayMs
      const status = initialStatus({
        pendingDependencies: pending,
        manual: queue.mode === 'manual',
        runAt: new Date(runAt),
        now: new Date(now),
      })
      if (ctx.stmt('SELECT 1 FROM jobs WHERE id = ?').get(job.id)) {
        throw conflict(`a job with id '${job.id}' already exists`, { id: job.id })
      }
      insertJob(ctx, job, status, runAt, pending, now)
      edges.push(...dependsOn.map((upstream) => [job.id, upstream] as const))
      insertEvent(ctx, { jobId: job.id, queue: job.queue, kind: 'added', status, at: now })
      const row = ctx.stmt('SELECT * FROM jobs WHERE id = ?').get(job.id) as Record<string, unknown>
      result.jobs.push(rowToJob(row, decode))
      result.deduplicated.push(false)
    }
    // A deduplicated job's files belong to no job: only those of jobs inserted here are recorded.
    const inserted = new Set(result.jobs.filter((_, i) => !result.deduplicated[i]).map((j) => j.id))
    for (const a of artifacts) if (inserted.has(a.jobId)) insertArtifact(ctx, a)
    // Only once every job is in: a job may depend on one listed after it.
    for (const [jobId, upstream] of edges) {
      ctx
        .stmt('INSERT OR IGNORE INTO job_dependencies (job_id, depends_on) VALUES (?, ?)')
        .run(jobId, upstream)
      ctx.stmt('UPDATE jobs SET has_dependents = 1 WHERE id = ? AND has_dependents = 0').run(upstream)
    }
    return result
  })
}

function loadQueues(ctx: SqliteContext, names: string[]): Map<string, QueueRecord> {
  const queues = new Map<string, QueueRecord>()
  for (const name of new Set(names)) {
    const row = ctx.stmt('SELECT * FROM queues WHERE name = ?').get(name) as
      | Record<string, unknown>
      | undefined
    if (!row) throw notFound('queue', name)
    queues.set(name, rowToQueueRecord(row, decode))
  }
  return queues
}

/** The live job of the same queue and owner holding `key` (jobs without an owner match each other). */
function findLiveByDedupeKey(ctx: SqliteContext, job: NewJob, key: string): Job | null {
  const row = ctx
    .stmt(
      `SELECT * FROM jobs WHERE queue = ? AND coalesce(owner, '') = ? AND dedupe_key = ? AND status IN ${LIVE}`,
    )
    .get(job.queue, job.owner ?? '', key) as Record<string, unknown> | undefined
  return row ? rowToJob(row, decode) : null
}

/**
 * Dependencies that have not completed yet. A dependency that already failed
 * for good is refused; one of another owner is refused as if it did not exist.
 */
function countPendingDependencies(
  ctx: SqliteContext,
  job: NewJob,
  dependsOn: string[],
  addedNow: Map<string, string | null>,
): number {
  const jobId = job.id
  let pending = 0
  for (const upstream of dependsOn) {
    if (addedNow.has(upstream)) {
      if (!sameOwner(addedNow.get(upstream)!, job.owner)) throw missingDependency(jobId, upstream)
      pending++
      continue
    }
    const row = ctx.stmt('SELECT status, owner FROM jobs WHERE id = ?').get(upstream) as
      | { status: JobStatus; owner: string | null }
      | undefined
    if (!row || !sameOwner(row.owner, job.owner)) throw missingDependency(jobId, upstream)
    if (row.status === 'failed' || row.status === 'cancelled') {
      throw conflict(
        `job '${jobId}' cannot depend on job '${upstream}': it is ${row.status} and will never complete`,
        {
          id: upstream,
          status: row.status,
        },
      )
    }
    if (row.status !== 'completed') pending++
  }
  return pending
}

function insertJob(
  ctx: SqliteContext,
  job: NewJob,
  status: JobStatus,
  runAt: number,
  pending: number,
  now: number,
): void {
  ctx
    .stmt(
      `INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, timeout_ms,
         owner, batch_id, capabilities, dedupe_key, pending_deps, created_at, estimated_duration_ms)
       VALUES (@id, @queue, @type, @payload, @status, @priority, @runAt, @maxAttempts, @backoff, @timeoutMs,
         @owner, @batchId, @capabilities, @dedupeKey, @pending, @now, @estimatedDurationMs)`,
    )
    .run({
      id: job.id,
      queue: job.queue,
      type: job.type,
      payload: JSON.stringify(job.payload),
      status,
      priority: job.priority,
      runAt,
      maxAttempts: job.maxAttempts,
      backoff: JSON.stringify(job.backoff),
      timeoutMs: job.timeoutMs,
      owner: job.owner,
      batchId: job.batchId,
      capabilities: job.capabilities.length > 0 ? JSON.stringify(job.capabilities) : null,
      dedupeKey: job.dedupeKey,
      pending,
      now,
      estimatedDurationMs: job.estimatedDurationMs,
    })
}

export function insertArtifact(ctx: SqliteContext, a: ArtifactRecord): void {
  ctx
    .stmt(
      `INSERT INTO artifacts (id, job_id, direction, name, media_type, size, sha256, storage_key, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(a.id, a.jobId, a.direction, a.name, a.mediaType, a.size, a.sha256, a.storageKey, ctx.now())
}
