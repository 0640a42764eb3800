/**
 * Row -> domain mapping shared by both drivers. Column names are the same in
 * both schemas; only the encodings differ (SQLite keeps times as epoch ms and
 * JSON as text, PostgreSQL as timestamptz and jsonb), which `Decode` hides.
 */
import type { Attempt, AttemptError, AttemptOutcome } from '../core/attempts.js'
import { fingerprintError } from '../core/fingerprint.js'
import type { LeaseMemory } from '../core/leases.js'
import type { QueueRecord } from '../core/resolve.js'
import {
  type BackoffPolicy,
  type ClaimedJob,
  emptyCounts,
  type Job,
  type JobError,
  type JobEvent,
  type JobStatus,
  type Queue,
  type StoredEvent,
  type UpstreamJob,
} from '../core/types.js'
import type { ApiKeyInfo, Artifact, BatchSummary, Role, SessionInfo, WorkerInfo } from './store.js'

export interface Decode {
  date(value: unknown): Date
  json(value: unknown): unknown
}

type Row = Record<string, unknown>

const dateOrNull = (d: Decode, v: unknown): Date | null => (v === null || v === undefined ? null : d.date(v))
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))

export function rowToJob(row: Row, d: Decode): Job {
  const status = row.status as JobStatus
  const active = status === 'active' && row.lease_token != null
  return {
    id: String(row.id),
    queue: String(row.queue),
    type: String(row.type),
    payload: d.json(row.payload),
    status,
    priority: Number(row.priority),
    runAt: d.date(row.run_at),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    backoff: d.json(row.backoff) as BackoffPolicy,
    timeoutMs: numOrNull(row.timeout_ms),
    progress: {
      percent: Number(row.progress_percent),
      step: strOrNull(row.progress_step),
      message: strOrNull(row.progress_message),
    },
    lease: active
      ? {
          workerId: String(row.worker_id),
          token: String(row.lease_token),
          lockedAt: d.date(row.locked_at),
          expiresAt: d.date(row.lease_expires_at),
        }
      : null,
    workerId: strOrNull(row.worker_id),
    lastError: decodeError(d.json(row.last_error)),
    errorCount: Number(row.error_count),
    result: row.result === null || row.result === undefined ? null : d.json(row.result),
    owner: strOrNull(row.owner),
    group: strOrNull(row.group_key),
    batchId: strOrNull(row.batch_id),
    capabilities: row.capabilities == null ? [] : (d.json(row.capabilities) as string[]),
    dedupeKey: strOrNull(row.dedupe_key),
    pendingDependencies: Number(row.pending_deps),
    createdAt: d.date(row.created_at),
    startedAt: dateOrNull(d, row.started_at),
    finishedAt: dateOrNull(d, row.finished_at),
    estimatedDurationMs: numOrNull(row.estimated_duration_ms),
    durationMs: numOrNull(row.duration_ms),
    expiresAt: dateOrNull(d, row.expires_at),
  }
}

/** A claimed job: the job, and the trace context it was added with (when it was traced). */
export function rowToClaimedJob(row: Row, d: Decode): ClaimedJob {
  const job = rowToJob(row, d) as ClaimedJob
  if (typeof row.traceparent === 'string') {
    job.traceContext =
      typeof row.tracestate === 'string'
        ? { traceparent: row.traceparent, tracestate: row.tracestate }
        : { traceparent: row.traceparent }
  }
  return job
}

function decodeError(value: unknown): JobError | null {
  if (value === null || value === undefined) return null
  const e = value as Omit<JobError, 'at' | 'fingerprint'> & { at: string; fingerprint?: string }
  // Errors stored before fingerprints existed get theirs on read, as they would have been given.
  return { ...e, fingerprint: e.fingerprint ?? fingerprintError(e).fingerprint, at: new Date(e.at) }
}

export function rowToQueue(row: Row, d: Decode): Queue {
  return {
    ...rowToQueueRecord(row, d),
    createdAt: d.date(row.created_at),
    updatedAt: d.date(row.updated_at),
  }
}

export function rowToQueueRecord(row: Row, d: Decode): QueueRecord {
  return {
    name: String(row.name),
    description: strOrNull(row.description),
    mode: row.mode as Queue['mode'],
    status: row.status as Queue['status'],
    concurrency: numOrNull(row.concurrency),
    ordering: row.ordering as Queue['ordering'],
    defaults: {
      maxAttempts: Number(row.max_attempts),
      backoff: d.json(row.backoff) as BackoffPolicy,
      timeoutMs: numOrNull(row.timeout_ms),
    },
    retentionMs: numOrNull(row.retention_ms),
    settings: (d.json(row.settings) ?? {}) as Record<string, unknown>,
    rateLimit:
      row.rate_max == null
        ? null
        : {
            max: Number(row.rate_max),
            intervalMs: Number(row.rate_interval_ms),
            ...(row.rate_per === 'group' ? { per: 'group' as const } : {}),
          },
    groupConcurrency: numOrNull(row.group_concurrency),
    fair: Boolean(row.fair),
    groupByOwner: Boolean(row.group_by_owner),
  }
}

/** A worker row. Capabilities and queues are JSON text on SQLite and text[] on PostgreSQL: `json` reads both. */
export function rowToWorker(r: Row, d: Decode): WorkerInfo {
  return {
    id: String(r.id),
    registeredBy: strOrNull(r.registered_by),
    host: String(r.host),
    pid: Number(r.pid),
    kind: String(r.kind),
    capabilities: d.json(r.capabilities) as string[],
    queues: d.json(r.queues) as string[],
    concurrency: Number(r.concurrency),
    load: Number(r.load),
    status: r.status as WorkerInfo['status'],
    startedAt: d.date(r.started_at),
    heartbeatAt: d.date(r.heartbeat_at),
  }
}

/** What a job row remembers of its leases, for core's leaseLostReason. */
export function rowToLeaseMemory(row: Row): LeaseMemory {
  return {
    status: row.status as JobStatus,
    attempts: Number(row.attempts),
    leaseToken: strOrNull(row.lease_token),
    endedToken: strOrNull(row.lease_ended_token),
    endedReason: strOrNull(row.lease_ended_reason),
    endedAttempt: numOrNull(row.lease_ended_attempt),
  }
}

export function rowToStoredEvent(row: Row, d: Decode): StoredEvent {
  return {
    id: Number(row.id),
    jobId: strOrNull(row.job_id),
    queue: strOrNull(row.queue),
    workerId: strOrNull(row.worker_id),
    kind: String(row.kind) as StoredEvent['kind'],
    status: (row.status as JobStatus | null) ?? null,
    step: strOrNull(row.step),
    percent: numOrNull(row.percent),
    message: strOrNull(row.message),
    data: row.data == null ? null : d.json(row.data),
    at: d.date(row.at),
  }
}

/** A row of one job's history: the log's row without the fields that only a feed needs. */
export function rowToEvent(row: Row, d: Decode): JobEvent {
  const { queue: _queue, workerId: _workerId, jobId, kind, ...rest } = rowToStoredEvent(row, d)
  return { ...rest, jobId: String(jobId), kind: kind as JobEvent['kind'] }
}

export function batchSummary(
  batch: Row,
  counts: { status: string; n: number; progress: number }[],
  d: Decode,
): BatchSummary {
  const c = emptyCounts()
  let total = 0
  let progress = 0
  for (const row of counts) {
    c[row.status as JobStatus] = Number(row.n)
    total += Number(row.n)
    progress += Number(row.progress)
  }
  return {
    id: String(batch.id),
    name: strOrNull(batch.name),
    owner: strOrNull(batch.owner),
    thenJobId: strOrNull(batch.then_job_id),
    createdAt: d.date(batch.created_at),
    total,
    counts: c,
    progress: total === 0 ? 0 : Math.round((progress / total) * 10) / 10,
  }
}

/** Per-status sums for a batch: finished jobs count as 100 percent, others as their progress. */
export const BATCH_COUNTS_SQL = `SELECT status, count(*) AS n,
  sum(CASE WHEN status IN ('completed','failed','cancelled') THEN 100 ELSE progress_percent END) AS progress
  FROM jobs WHERE batch_id = $1 GROUP BY status`

export function rowToArtifact(r: Row, d: Decode): Artifact {
  return {
    id: String(r.id),
    jobId: String(r.job_id),
    direction: r.direction as Artifact['direction'],
    name: String(r.name),
    mediaType: String(r.media_type),
    size: Number(r.size),
    sha256: String(r.sha256),
    storageKey: String(r.storage_key),
    createdAt: d.date(r.created_at),
  }
}

const API_KEY_COLUMNS = 'k.id, p.name, p.role, k.prefix, k.created_at, k.last_used_at, k.revoked_at'

export const API_KEY_SELECT = `SELECT ${API_KEY_COLUMNS}
  FROM api_keys k JOIN principals p ON p.id = k.principal_id`

/** A session with its key; the caller adds the conditions that make it live. */
export const SESSION_SELECT = `SELECT ${API_KEY_COLUMNS}, s.csrf_token, s.expires_at
  FROM sessions s JOIN api_keys k ON k.id = s.key_id JOIN principals p ON p.id = k.principal_id`

export function rowToApiKey(r: Row, d: Decode): ApiKeyInfo {
  return {
    id: String(r.id),
    name: String(r.name),
    role: r.role as Role,
    prefix: String(r.prefix),
    createdAt: d.date(r.created_at),
    lastUsedAt: r.last_used_at == null ? null : d.date(r.last_used_at),
    revokedAt: r.revoked_at == null ? null : d.date(r.revoked_at),
  }
}

export function rowToSession(r: Row, d: Decode): SessionInfo {
  return { key: rowToApiKey(r, d), csrfToken: String(r.csrf_token), expiresAt: d.date(r.expires_at) }
}

/** The JSON stored in `last_error`. */
export function encodeError(error: JobError): string {
  return JSON.stringify({ ...error, at: error.at.toISOString() })
}

export const SORT_COLUMNS = { createdAt: 'created_at', priority: 'priority', runAt: 'run_at' } as const

/** A job another depends on: `SELECT j.id, j.type, j.status, j.result, d.type AS on`. */
export function rowToUpstream(r: Row, d: Decode): UpstreamJob {
  return {
    id: String(r.id),
    type: String(r.type),
    status: r.status as JobStatus,
    on: r.on as UpstreamJob['on'],
    result: r.status === 'completed' && r.result != null ? d.json(r.result) : null,
  }
}

/** A row of `job_attempts`. */
export function rowToAttempt(r: Row, d: Decode): Attempt {
  return {
    attempt: Number(r.attempt),
    workerId: strOrNull(r.worker_id),
    startedAt: dateOrNull(d, r.started_at),
    finishedAt: dateOrNull(d, r.finished_at),
    outcome: r.outcome as AttemptOutcome,
    error: r.error == null ? null : withFingerprint(d.json(r.error) as AttemptError),
  }
}

/** An attempt's error stored before fingerprints existed gets its fingerprint on read. */
function withFingerprint(e: AttemptError): AttemptError {
  return e.fingerprint === undefined ? { ...e, fingerprint: fingerprintError(e).fingerprint } : e
}
