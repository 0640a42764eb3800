/** The domain model: what a queue, a job and a job event are, independent of storage. */
import type { Attempt } from './attempts.js'
import type { DependencyType } from './dependencies.js'
import type { JobEventKind, StoredEventKind } from './events.js'

export const JOB_STATUSES = [
  'waiting',
  'scheduled',
  'blocked',
  'held',
  'active',
  'completed',
  'failed',
  'cancelled',
] as const
export type JobStatus = (typeof JOB_STATUSES)[number]

export const FINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled']
/** Jobs in these states still have work ahead of them; a dedupe key is unique among them. */
export const LIVE_STATUSES: readonly JobStatus[] = ['waiting', 'scheduled', 'blocked', 'held', 'active']

export type QueueMode = 'automatic' | 'manual'
export type QueueStatus = 'active' | 'paused'
export type QueueOrdering = 'priority' | 'fifo'

export interface BackoffPolicy {
  type: 'fixed' | 'exponential'
  /** Base delay in milliseconds. */
  delayMs: number
  /** Upper bound for exponential growth, in milliseconds. */
  maxDelayMs: number
  /** Fraction (0..1) of each delay that is randomised, so retries of many jobs spread out. */
  jitter: number
}

export interface QueueDefaults {
  maxAttempts: number
  backoff: BackoffPolicy
  /** How long a handler may run before the attempt is failed; null for no limit. */
  timeoutMs: number | null
}

export interface RateLimit {
  max: number
  intervalMs: number
  /** 'group': each group of jobs has its own budget of `max` per window. */
  per?: 'group'
}

export interface Queue {
  name: string
  description: string | null
  mode: QueueMode
  status: QueueStatus
  /** Most jobs of this queue active at once across all workers; null for no limit. */
  concurrency: number | null
  ordering: QueueOrdering
  defaults: QueueDefaults
  /** Finished jobs older than this are deleted by cleanup; null keeps them. */
  retentionMs: number | null
  settings: Record<string, unknown>
  /** At most `max` jobs of the queue start in any window of `intervalMs`, across all workers; null for no limit. */
  rateLimit: RateLimit | null
  /** Most active jobs per group (a job's `group`) across all workers; null for no limit. */
  groupConcurrency: number | null
  /** Claims take turns between groups (round-robin), in the queue's order inside each group. */
  fair: boolean
  /** A job added without a group gets its owner as its group. */
  groupByOwner: boolean
  createdAt: Date
  updatedAt: Date
}

export interface JobProgress {
  percent: number
  step: string | null
  message: string | null
}

export interface JobLease {
  workerId: string
  token: string
  lockedAt: Date
  expiresAt: Date
}

export interface JobError {
  message: string
  name: string | null
  stack: string | null
  /** The error's class (core/fingerprint.ts): the same for every occurrence, whatever ids or numbers its message names. */
  fingerprint: string
  attempt: number
  at: Date
  /** False when the handler said not to retry, or the failure is not the handler's (a failed dependency). */
  retryable: boolean
}

export interface Job<Payload = unknown, Result = unknown> {
  id: string
  queue: string
  type: string
  payload: Payload
  status: JobStatus
  /** Higher runs first. See PRIORITIES for the named levels. */
  priority: number
  runAt: Date
  /** Attempts started so far (the current one included while active). */
  attempts: number
  maxAttempts: number
  backoff: BackoffPolicy
  timeoutMs: number | null
  progress: JobProgress
  lease: JobLease | null
  /** The worker of its latest attempt, kept after it ends (the lease says whether it still holds the job); null before the first. */
  workerId: string | null
  lastError: JobError | null
  errorCount: number
  result: Result | null
  owner: string | null
  /** The job's group (a tenant, a user): the unit of per-group limits and fair turns. */
  group: string | null
  batchId: string | null
  capabilities: string[]
  dedupeKey: string | null
  /** Dependencies not yet completed; the job is `blocked` while this is above zero. */
  pendingDependencies: number
  createdAt: Date
  startedAt: Date | null
  finishedAt: Date | null
  estimatedDurationMs: number | null
  durationMs: number | null
  /** Not run unless it starts by then; null: never expires (core/expiry.ts). */
  expiresAt: Date | null
}

/** The kinds of a job's history are listed in core/events.ts, with every other kind of event. */
export type { JobEventKind }

/**
 * A row of the event log, the one shape every view of it shares: a job's
 * history (`JobEvent`), the log as the feed reads it (`StoredEvent`), and the
 * public feed's `DocketEvent` (events/feed.ts), which differ only in `kind`.
 */
export interface EventRecord<Kind extends string = StoredEventKind> {
  /** Increases with every event; the feed resumes after the last id seen (`afterId`). */
  id: number
  kind: Kind
  jobId: string | null
  queue: string | null
  /** The worker that claimed, reported on, completed, failed or released the job, or whose lease ran out; the worker of a worker event. */
  workerId: string | null
  /** For `added` and `state` events, the status the job moved to. */
  status: JobStatus | null
  step: string | null
  percent: number | null
  message: string | null
  data: unknown
  at: Date
}

/** An event of one job's history, as a job's detail lists it. */
export interface JobEvent extends Omit<EventRecord<JobEventKind>, 'jobId' | 'queue' | 'workerId'> {
  jobId: string
}

/** A row of the event log as the feed reads it (see Store.readEvents). */
export type StoredEvent = EventRecord<StoredEventKind>

export interface JobDependencies {
  /** Jobs this job waits for, and whether for their success or only their completion. */
  upstream: { id: string; status: JobStatus; on: DependencyType }[]
  /** Jobs waiting for this job. */
  downstream: { id: string; status: JobStatus; on: DependencyType }[]
}

/** A job another job depends on, as its dependent reads it (`ctx.upstream()`): its outcome and result. */
export interface UpstreamJob<Result = unknown> {
  id: string
  type: string
  status: JobStatus
  /** What the dependent waits for: its success, or only its completion. */
  on: DependencyType
  /** The job's result once completed; null before, or when it failed or was cancelled. */
  result: Result | null
}

export interface JobDetail<Payload = unknown, Result = unknown> extends Job<Payload, Result> {
  events: JobEvent[]
  /** Every attempt, oldest first (core/attempts.ts); `attempts` stays the count. */
  attemptHistory: Attempt[]
  dependencies: JobDependencies
}

/** A job handed to a worker: the job as it is now active, with the lease that fences every later write. */
export interface ClaimedJob<Payload = unknown> extends Job<Payload> {
  lease: JobLease
  /**
   * The W3C trace context of the code that added the job, when it was traced
   * (an OpenTelemetry SDK was registered there): the run's span joins that
   * trace. See docs/tracing.md.
   */
  traceContext?: TraceContext
}

/** A W3C trace context (https://www.w3.org/TR/trace-context/), as stored with a job. */
export interface TraceContext {
  /** `00-<trace id>-<span id>-<flags>` */
  traceparent: string
  tracestate?: string
}

export type StatusCounts = Record<JobStatus, number>

/** One group of a queue with its jobs now: running (`active`) and yet to run (`waiting`: ready or delayed). */
export interface GroupCount {
  group: string
  active: number
  waiting: number
}

export function emptyCounts(): StatusCounts {
  return Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StatusCounts
}

/** A job's id with its lease token: what every write a lease holder makes names (a stale token is refused). */
export interface LeaseRef {
  id: string
  token: string
}

/**
 * One unbroken tenure of a named leadership. The term goes up whenever the
 * leadership changes hands or lapses, so a maintenance write that names its
 * term is refused (LEADERSHIP_LOST) once that tenure is over: a leader that
 * was frozen and wakes late does nothing stale.
 */
export interface LeaderTerm {
  name: string
  holder: string
  term: number
}

export interface WorkerRecord {
  id: string
  /** The principal (API key name) that registered the worker over HTTP; null for a library worker. */
  registeredBy?: string | null
  host: string
  pid: number
  kind: string
  capabilities: string[]
  queues: string[]
  concurrency: number
}

export interface WorkerInfo extends WorkerRecord {
  registeredBy: string | null
  load: number
  status: 'up' | 'lost' | 'stopped'
  startedAt: Date
  heartbeatAt: Date
}

export interface BatchRecord {
  id: string
  name: string | null
  owner: string | null
  /** The job that runs once every job of the batch is final (addBatch's `then`). */
  thenJobId?: string | null
}

export interface BatchSummary extends BatchRecord {
  thenJobId: string | null
  createdAt: Date
  total: number
  counts: StatusCounts
  /** Mean progress of the batch's jobs, finished jobs counting as 100. */
  progress: number
}

export interface ArtifactRecord {
  id: string
  jobId: string
  direction: 'input' | 'output'
  /** The original file name, for display and downloads only; never used as a path. */
  name: string
  mediaType: string
  size: number
  sha256: string
  storageKey: string
}

export interface Artifact extends ArtifactRecord {
  createdAt: Date
}

/**
 * The caller's own connection, inside a transaction it opened (PostgreSQL: a
 * node-postgres Client or PoolClient after BEGIN). An add given one writes in
 * that transaction, so the job commits or rolls back with the caller's work.
 */
export interface CallerTransaction {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}
