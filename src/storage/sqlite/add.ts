import { type DedupeMode, type Replacement, replacedMessage } from '../../core/dedupe.js'
import { invalidArgument, notFound } from '../../core/errors.js'
import {
  dedupeSlot,
  insertLookups,
  jobIdTaken,
  type PlannedJob,
  type PlannedSlot,
  planInsert,
  type StoredUpstream,
} from '../../core/insert.js'
import type { NewJob, QueueRecord } from '../../core/resolve.js'
import { FINAL_STATUSES, type Job } from '../../core/types.js'
import { rowToJob, rowToQueueRecord } from '../rows.js'
import { LIVE, statusList } from '../sql.js'
import type { AddJobsResult, ArtifactRecord, BatchRecord, CallerTransaction } from '../store.js'
import { decode, type SqliteContext } from './db.js'
import { insertEvent } from './events.js'

const FINAL = statusList(FINAL_STATUSES)

/** The library's add. Its one-job form from SQL on PostgreSQL: src/storage/postgres/functions/add_job.sql. */
export function addJobs(
  ctx: SqliteContext,
  queueNames: string[],
  build: (queues: Map<string, QueueRecord>) => NewJob[],
  extras: { batch?: BatchRecord; artifacts?: ArtifactRecord[]; transaction?: CallerTransaction } = {},
): AddJobsResult {
  const { batch, artifacts = [] } = extras
  if (extras.transaction !== undefined) {
    throw invalidArgument(
      "a transaction client is for PostgreSQL: on SQLite, open Docket on your application's own database handle (Docket.open({ database: db })) and its adds join that handle's transactions",
      [{ path: 'client', message: 'only on PostgreSQL' }],
    )
  }
  return ctx.tx(() => {
    const now = ctx.now()
    if (batch) {
      ctx
        .stmt('INSERT INTO batches (id, name, owner, created_at, then_job_id) VALUES (?, ?, ?, ?, ?)')
        .run(batch.id, batch.name, batch.owner, now, batch.thenJobId ?? null)
    }
    const queues = loadQueues(ctx, queueNames)
    const jobs = build(queues)
    const lookups = insertLookups(jobs)
    const plan = planInsert({
      jobs,
      queues,
      now,
      duplicates: findLiveDuplicates(ctx, lookups.keyed),
      upstream: readUpstream(ctx, lookups.upstream),
      recent: findRecentlyFinished(ctx, lookups.recent, now),
    })
    // A running job that gives its key to a job queued after it lets go of it first (the key is unique among live jobs).
    for (const id of plan.keysReleased) ctx.stmt('UPDATE jobs SET dedupe_key = NULL WHERE id = ?').run(id)
    const replaced = new Map<string, Job>()
    for (const r of plan.replacements) replaced.set(r.id, replaceJob(ctx, r, plan.slots, now))
    const inserted = new Map<string, Job>()
    for (const p of plan.inserts) {
      if (ctx.stmt('SELECT 1 FROM jobs WHERE id = ?').get(p.job.id)) throw jobIdTaken(p.job.id)
      inserted.set(p.job.id, insertJob(ctx, p, now))
      insertEvent(ctx, { jobId: p.job.id, queue: p.job.queue, kind: 'added', status: p.status, at: now })
    }
    // A deduplicated job's files belong to no job: only those of jobs inserted here are recorded.
    for (const a of artifacts) if (inserted.has(a.jobId)) insertArtifact(ctx, a)
    // Only once every job is in: a job may depend on one listed after it.
    for (const [jobId, upstream, type] of plan.edges) {
      ctx
        .stmt('INSERT OR IGNORE INTO job_dependencies (job_id, depends_on, type) VALUES (?, ?, ?)')
        .run(jobId, upstream, type)
      ctx.stmt('UPDATE jobs SET has_dependents = 1 WHERE id = ? AND has_dependents = 0').run(upstream)
    }
    return {
      jobs: plan.slots.map((slot) =>
        'stored' in slot ? (replaced.get(slot.stored.id) ?? slot.stored) : inserted.get(slot.id)!,
      ),
      deduplicated: plan.slots.map((slot) => slot.deduplicated),
    }
  })
}

/** Writes a replace or debounce onto a live job that has not started (core/dedupe.ts). */
function replaceJob(ctx: SqliteContext, r: Replacement, slots: PlannedSlot[], now: number): Job {
  const before = ctx.stmt('SELECT status FROM jobs WHERE id = ?').get(r.id) as { status: string }
  const row = ctx
    .stmt(
      `UPDATE jobs SET payload = ?, priority = ?, max_attempts = ?, backoff = ?, timeout_ms = ?, capabilities = ?,
         estimated_duration_ms = ?, expires_at = ?, run_at = ?, status = ?
       WHERE id = ? AND status <> 'active' RETURNING *`,
    )
    .get(
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
      r.id,
    ) as Record<string, unknown>
  const job = rowToJob(row, decode)
  const mode = slots.find((s) => 'stored' in s && s.stored.id === r.id && s.replaced) as {
    replaced: DedupeMode
  }
  insertEvent(ctx, {
    jobId: r.id,
    queue: job.queue,
    kind: 'log',
    message: replacedMessage(mode.replaced),
    at: now,
  })
  if (before.status !== job.status)
    insertEvent(ctx, { jobId: r.id, queue: job.queue, kind: 'state', status: job.status, at: now })
  if (job.status === 'waiting') ctx.ready(job.queue)
  return job
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

/** Live jobs holding the dedupe keys of `keyed`, by dedupe slot (queue, owner, key). */
/** For keyed jobs with a dedupeTtlMs: the newest job with the key that finished within it, by dedupe slot. */
function findRecentlyFinished(ctx: SqliteContext, keyed: NewJob[], now: number): Map<string, Job> {
  const found = new Map<string, Job>()
  for (const job of keyed) {
    const row = ctx
      .stmt(
        `SELECT * FROM jobs WHERE queue = ? AND coalesce(owner, '') = ? AND dedupe_key = ?
           AND status IN ${FINAL} AND finished_at > ? ORDER BY finished_at DESC LIMIT 1`,
      )
      .get(job.queue, job.owner ?? '', job.dedupeKey, now - job.dedupeTtlMs!) as
      | Record<string, unknown>
      | undefined
    if (row) found.set(dedupeSlot(job.queue, job.owner, job.dedupeKey!), rowToJob(row, decode))
  }
  return found
}

function findLiveDuplicates(ctx: SqliteContext, keyed: NewJob[]): Map<string, Job> {
  const found = new Map<string, Job>()
  for (const job of keyed) {
    const row = ctx
      .stmt(
        `SELECT * FROM jobs WHERE queue = ? AND coalesce(owner, '') = ? AND dedupe_key = ? AND status IN ${LIVE}`,
      )
      .get(job.queue, job.owner ?? '', job.dedupeKey) as Record<string, unknown> | undefined
    if (row) found.set(dedupeSlot(job.queue, job.owner, job.dedupeKey!), rowToJob(row, decode))
  }
  return found
}

/** The stored jobs depended on that exist (the write lock is held: none can change before commit). */
function readUpstream(ctx: SqliteContext, ids: string[]): Map<string, StoredUpstream> {
  const found = new Map<string, StoredUpstream>()
  for (const id of ids) {
    const row = ctx.stmt('SELECT status, owner FROM jobs WHERE id = ?').get(id) as StoredUpstream | undefined
    if (row) found.set(id, { status: row.status, owner: row.owner ?? null })
  }
  return found
}

function insertJob(ctx: SqliteContext, p: PlannedJob, now: number): Job {
  const { job } = p
  const row = ctx
    .stmt(
      `INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, timeout_ms,
         owner, batch_id, capabilities, dedupe_key, pending_deps, created_at, estimated_duration_ms,
         traceparent, tracestate, expires_at, group_key)
       VALUES (@id, @queue, @type, @payload, @status, @priority, @runAt, @maxAttempts, @backoff, @timeoutMs,
         @owner, @batchId, @capabilities, @dedupeKey, @pending, @now, @estimatedDurationMs,
         @traceparent, @tracestate, @expiresAt, @group)
       RETURNING *`,
    )
    .get({
      id: job.id,
      queue: job.queue,
      type: job.type,
      payload: JSON.stringify(job.payload),
      status: p.status,
      priority: job.priority,
      runAt: p.runAtMs,
      maxAttempts: job.maxAttempts,
      backoff: JSON.stringify(job.backoff),
      timeoutMs: job.timeoutMs,
      owner: job.owner,
      batchId: job.batchId,
      capabilities: job.capabilities.length > 0 ? JSON.stringify(job.capabilities) : null,
      dedupeKey: job.dedupeKey,
      pending: p.pending,
      now,
      estimatedDurationMs: job.estimatedDurationMs,
      traceparent: job.traceContext?.traceparent ?? null,
      tracestate: job.traceContext?.tracestate ?? null,
      expiresAt: p.expiresAtMs,
      group: job.group,
    }) as Record<string, unknown>
  return rowToJob(row, decode)
}

export function insertArtifact(ctx: SqliteContext, a: ArtifactRecord): void {
  ctx
    .stmt(
      `INSERT INTO artifacts (id, job_id, direction, name, media_type, size, sha256, storage_key, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(a.id, a.jobId, a.direction, a.name, a.mediaType, a.size, a.sha256, a.storageKey, ctx.now())
}
