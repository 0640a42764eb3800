/**
 * The Store is everything Docket asks of a database, in parts by noun (JobStore,
 * LeaseStore, QueueStore, ...; `Store` is their intersection). Each method is one
 * atomic statement or transaction; inputs are already validated and resolved
 * by core/, so a driver only persists. Both drivers pass the same conformance
 * suite (test/conformance/), which is the real definition of these interfaces.
 */

import type {
  ApiKeyInfo,
  ApiKeyRecord,
  SessionInfo,
  SessionRecord,
  ViewerTokenInfo,
  ViewerTokenRecord,
} from '../core/access.js'
import type { Attempt } from '../core/attempts.js'
import type { Cursor } from '../core/cursor.js'
import type { ReportedEventKind } from '../core/events.js'
import type { IdMatch, JsonCondition, SearchTerm } from '../core/job-search.js'
import type { LeaseOutcome } from '../core/leases.js'
import type { SortKey } from '../core/options.js'
import type { NewJob, QueueRecord } from '../core/resolve.js'
import type { Schedule, ScheduleRecord, ScheduleRun } from '../core/schedules.js'
import type { FinishedJobRow, QueueHealthRow } from '../core/stats.js'
import type {
  Artifact,
  ArtifactRecord,
  BatchRecord,
  BatchSummary,
  CallerTransaction,
  ClaimedJob,
  GroupCount,
  Job,
  JobDependencies,
  JobError,
  JobEvent,
  JobStatus,
  LeaderTerm,
  LeaseRef,
  Queue,
  StatusCounts,
  StoredEvent,
  UpstreamJob,
  WorkerInfo,
  WorkerRecord,
} from '../core/types.js'

// The domain records are defined in core/; re-exported for the drivers, which name them from here.
export type {
  ApiKeyInfo,
  ApiKeyRecord,
  Role,
  SessionInfo,
  SessionRecord,
  ViewerTokenInfo,
  ViewerTokenRecord,
} from '../core/access.js'
export type { LeaseOutcome } from '../core/leases.js'
export type {
  Artifact,
  ArtifactRecord,
  BatchRecord,
  BatchSummary,
  CallerTransaction,
  LeaderTerm,
  LeaseRef,
  StoredEvent,
  WorkerInfo,
  WorkerRecord,
} from '../core/types.js'

export interface JobFilter {
  queue?: string
  statuses?: JobStatus[]
  type?: string
  owner?: string
  batchId?: string
  /** Only the jobs whose last error has this fingerprint (core/fingerprint.ts). */
  fingerprint?: string
  /** Only the ids in this range, or with these last 8 characters (core/job-search.ts). */
  id?: IdMatch
  /** Free-text search: the id, the payload's JSON, the last error's message. */
  search?: SearchTerm
  /** Conditions on the payload, all of which must hold. */
  where?: JsonCondition[]
}

export interface ListJobsParams extends JobFilter {
  limit: number
  sort: SortKey
  order: 'asc' | 'desc'
  after: Cursor | null
}

export interface ClaimParams {
  workerId: string
  queues: string[]
  capabilities: string[]
  limit: number
  leaseMs: number
}

export interface CompleteParams extends LeaseRef {
  result: unknown
}

export interface FailParams extends LeaseRef {
  /** `data`: JSON the failure carries, kept in the attempt's record only. */
  error: Omit<JobError, 'attempt' | 'at' | 'fingerprint'> & { data?: unknown }
  /** Retry after this long instead of the job's backoff (core/backoff.ts decideFailure). */
  retryInMs?: number
}

export interface SnoozeParams extends LeaseRef {
  delayMs: number
}

export interface ProgressParams extends LeaseRef {
  percent?: number
  step?: string | null
  message?: string | null
}

export interface EventParams extends LeaseRef {
  kind: ReportedEventKind | 'progress'
  step?: string | null
  percent?: number | null
  message?: string | null
  data?: unknown
}

export interface AddJobsResult {
  jobs: Job[]
  /** Per input position: true where a live job with the same dedupe key was returned instead of inserting. */
  deduplicated: boolean[]
}

export interface CleanupParams {
  /** Delete finished jobs finished before this; null uses each queue's retention. */
  olderThanMs: number | null
  queue: string | null
  batchSize: number
  /** When given, each batch runs only while this term is current (see LeaderTerm). */
  fence?: LeaderTerm
}

/**
 * File bytes kept in the database itself, in chunks (PostgreSQL only), for
 * artifacts/database.ts, which streams them in and out. A blob holds its
 * bytes only once `finishBlob` ran; `readChunk` reads only finished blobs.
 */
export interface BlobStore {
  /** Starts a blob; also deletes blobs left unfinished more than a day ago (a process died mid-upload). */
  startBlob(key: string): Promise<void>
  writeChunk(key: string, seq: number, data: Buffer): Promise<void>
  finishBlob(key: string, size: number, sha256: string): Promise<void>
  /** Chunk `seq` of a finished blob; null past its last chunk or when there is no such finished blob. */
  readChunk(key: string, seq: number): Promise<Buffer | null>
  /** Whether a finished blob has this key. */
  hasBlob(key: string): Promise<boolean>
  deleteBlob(key: string): Promise<void>
  /** Every blob, finished or not (`partial`), with the bytes it holds: for tests and audits. */
  listBlobs(): Promise<{ key: string; size: number; partial: boolean }[]>
}

/** How a schedule's tick becomes a job: called inside the transaction, with the queue as it is then. */
export type BuildScheduledJob = (schedule: ScheduleRecord, queue: QueueRecord, tickAt: number) => NewJob

/** A schedule after an update, and whether its ticks start afresh from now (core's applyScheduleUpdate). */
export type ScheduleChange = (
  current: ScheduleRecord,
  now: number,
) => { record: ScheduleRecord; restart: boolean }

export interface FireParams {
  /** A run asked for by hand: one job now, whatever the ticks, not counted as a tick. */
  manual?: boolean
  /** The maintenance leader's term: the run is refused (LEADERSHIP_LOST) once it is over. */
  fence?: LeaderTerm
}

/** The connection itself: which driver, and whether the database answers. */
export interface StoreConnection {
  readonly driver: 'sqlite' | 'postgres'
  close(): Promise<void>
  /** Whether the database answers; for readiness checks. */
  ping(): Promise<void>
}

/** Queues and their settings (drivers: queues.ts). */
export interface QueueStore {
  createQueue(queue: QueueRecord): Promise<Queue>
  /** Reads the queue, lets `change` compute the new record, and writes it, in one transaction. */
  updateQueue(name: string, change: (current: QueueRecord) => QueueRecord): Promise<Queue>
  getQueue(name: string): Promise<Queue | null>
  listQueues(): Promise<Queue[]>
  /** Refuses (CONFLICT) while the queue has live jobs, unless `force`, which deletes them too. */
  deleteQueue(name: string, force: boolean): Promise<void>
}

/** Adding jobs and reading them back (drivers: add.ts, read.ts, attempts.ts). */
export interface JobStore {
  /**
   * Inserts jobs in one transaction. `build` is called inside it with each
   * input's queue, so defaults come from the queue as it is then; unknown
   * queues and unknown dependencies fail the whole call. Wakes the workers of
   * queues that got waiting jobs once the transaction commits.
   */
  addJobs(
    queues: string[],
    build: (queues: Map<string, QueueRecord>) => NewJob[],
    extras?: { batch?: BatchRecord; artifacts?: ArtifactRecord[]; transaction?: CallerTransaction },
  ): Promise<AddJobsResult>
  getJob(id: string): Promise<Job | null>
  getJobEvents(id: string, afterId?: number, limit?: number): Promise<JobEvent[]>
  getJobDependencies(id: string): Promise<JobDependencies>
  /** The jobs `id` depends on, with their type, status and result, by id. A removed upstream job is left out. */
  getUpstreamJobs(id: string): Promise<UpstreamJob[]>
  /** The job's attempts, oldest first (see core/attempts.ts). */
  getJobAttempts(id: string): Promise<Attempt[]>
  listJobs(params: ListJobsParams): Promise<Job[]>
  /** How many jobs match the filter (every page; the cursor and limit are ignored), counting no further than `upTo`. */
  countMatchingJobs(filter: JobFilter, upTo: number): Promise<number>
  /** The distinct (queue, type) pairs among the newest `sample` jobs, only `owner`'s when given. */
  recentQueueTypes(owner: string | null, sample: number): Promise<{ queue: string; type: string }[]>
  /**
   * For each of these jobs that exists, who registered the worker of its
   * latest attempt (the key name; null: no attempt yet, a library worker, or
   * a worker since forgotten): what binds a lease to the key that claimed it
   * (server/lease-binding.ts). One read for all of them.
   */
  jobWorkerRegistrants(jobIds: string[]): Promise<Map<string, string | null>>
}

/** An operator's actions on one job, each one transition of the state machine (drivers: control.ts). */
export interface JobControlStore {
  cancelJob(id: string): Promise<Job>
  retryJob(id: string): Promise<Job>
  setPriority(id: string, priority: number): Promise<Job>
  /** Promotes the given held or scheduled jobs, or every held job of a queue. Returns how many moved. */
  promoteJobs(target: { ids: string[] } | { queue: string }): Promise<number>
  removeJob(id: string): Promise<void>
}

/** Claims and what a lease holder writes: heartbeats, progress, outcomes (drivers: leases.ts, rate-limits.ts). */
export interface LeaseStore {
  claimJobs(params: ClaimParams): Promise<ClaimedJob[]>
  /**
   * For a worker that could start nothing: milliseconds until the first of
   * these queues that is at its rate limit gets a free slot; null when none is
   * held back by its rate limit. Read-only.
   */
  rateLimitWaitMs(queues: string[]): Promise<number | null>
  extendLeases(refs: LeaseRef[], leaseMs: number): Promise<LeaseOutcome[]>
  reportProgress(params: ProgressParams): Promise<void>
  appendEvent(params: EventParams): Promise<void>
  completeJobs(params: CompleteParams[]): Promise<LeaseOutcome[]>
  failJob(params: FailParams): Promise<Job>
  /** Gives the lease back without spending the attempt; the job runs again after `delayMs` (core/snooze.ts). LEASE_LOST if not held. */
  snoozeJob(params: SnoozeParams): Promise<Job>
  /** Whether each lease is still held, and if not why. Read-only. */
  checkLeases(refs: LeaseRef[]): Promise<LeaseOutcome[]>
  /** Gives a job back without counting the attempt (graceful shutdown, or a remote worker's release). */
  releaseJobs(refs: LeaseRef[]): Promise<LeaseOutcome[]>
}

/** Read-only figures of a queue: counts, health, rate-limit use, its busiest groups (drivers: read.ts, health.ts, rate-limits.ts, groups.ts). */
export interface QueueStatsStore {
  /** Counts by status per queue (every queue, or the one named); only `owner`'s jobs when given. */
  countJobs(queue: string | null, owner?: string | null): Promise<Map<string, StatusCounts>>
  /** Jobs finished since `sinceMs` (newest first, at most `limit`), for statistics. */
  finishedJobs(queue: string | null, sinceMs: number, limit: number): Promise<FinishedJobRow[]>
  /** A queue's health figures at `now` (core/stats.ts): only `owner`'s jobs when given. Read-only. */
  queueHealth(queue: string, owner: string | null, now: number): Promise<QueueHealthRow>
  /**
   * A queue's rate limit as it stands: starts still in the window (the busiest
   * group's, per group) and, when they fill it, ms until the next slot opens;
   * null without a rate limit. Read-only.
   */
  rateLimitUse(queue: string): Promise<{ used: number; waitMs: number | null } | null>
  /** A queue's busiest groups: most active, then most waiting (ready or delayed) jobs; only `owner`'s jobs when given. */
  groupCounts(queue: string, owner: string | null, limit: number): Promise<GroupCount[]>
}

/** The maintenance leader's sweeps, each fenced by its term when given one (drivers: leases.ts, expiry.ts, control.ts). */
export interface MaintenanceStore {
  /**
   * Active jobs whose lease ran out go back to waiting, or fail when out of attempts. Returns how many.
   * With `fence` (the maintenance leader's pass), only while that term is current, checked in the
   * same transaction (LEADERSHIP_LOST otherwise); on SQLite a lease then counts as expired only
   * CLOCK_SKEW_TOLERANCE_MS after its expiry, since another process's clock set it.
   */
  recoverExpiredLeases(fence?: LeaderTerm): Promise<number>
  /**
   * The lease recovery of every process's maintenance pass, leader or not: active jobs whose lease
   * ran out go back to waiting (or fail, out of attempts), each write fenced by the lease itself,
   * so no leadership is needed and a dead or frozen leader holds up no recovery. On PostgreSQL a
   * lease ran out by the database's clock. On SQLite, where every process writes its own clock's
   * times, once this process has seen the lease unchanged (token and heartbeat count) for its
   * length, by its own elapsed time (core/lease-watch.ts): a lease that is heartbeating is never
   * taken, whatever the clocks say. `nextInMs`: when the next lease this process watches would run
   * out (SQLite; null on PostgreSQL, or when it watches none), so the pass can come back then.
   */
  sweepExpiredLeases(): Promise<{ recovered: number; nextInMs: number | null }>
  /**
   * Ends jobs not started by their expiry: failed, with a JobExpired error and an `expired`
   * attempt (core/expiry.ts); their dependents fail too. Returns how many. `fence` as in
   * recoverExpiredLeases.
   */
  expireJobs(fence?: LeaderTerm): Promise<number>
  /** Deletes finished jobs (and their events) in bounded batches. Returns how many. */
  cleanup(params: CleanupParams): Promise<number>
}

/** Batches of jobs, summed up from their jobs (drivers: read.ts). */
export interface BatchStore {
  getBatch(id: string): Promise<BatchSummary | null>
  /** Batches newest first (ids are time-ordered): only `owner`'s when given, only those before the id `before`. */
  listBatches(params: { owner: string | null; before: string | null; limit: number }): Promise<BatchSummary[]>
}

/** Files of jobs: their records, and the database's own blob storage where it has one (drivers: add.ts, read.ts, blobs.ts). */
export interface ArtifactStore {
  /** Where artifact bytes can live in this database itself, when the driver can keep them. */
  readonly blobs?: BlobStore
  /** Records an artifact of a job (its bytes are already stored under `storageKey`). */
  addArtifact(artifact: ArtifactRecord): Promise<Artifact>
  listArtifacts(jobId: string): Promise<Artifact[]>
  getArtifact(id: string): Promise<Artifact | null>
}

/** Signals between processes: jobs ready, a job cancelled (drivers: workers.ts). */
export interface NotificationStore {
  /** Wakes workers of these queues, in every process: jobs may have become ready there. */
  notifyReady(queues: string[]): Promise<void>
  /** Calls `listener` with a queue name whenever jobs may have become ready in it. Returns an unsubscribe. */
  onReady(listener: (queue: string) => void): Promise<() => Promise<void>>
  /**
   * Calls `listener` with the lease of an active job as soon as the job is
   * cancelled, in every process, where the database can push (PostgreSQL:
   * NOTIFY at commit); with '*' when some may have been missed (a reconnect).
   * Elsewhere (SQLite) it never calls: workers find cancels with `checkLeases`.
   * Returns an unsubscribe.
   */
  onCancelled(listener: (lease: LeaseRef | '*') => void): Promise<() => Promise<void>>
}

/** Which events a read of the log returns: only one job's (by an index), or one queue's. */
export interface EventFilter {
  jobId?: string
  queue?: string
}

/** A page of the event log: its events, the cursor to read on from, and whether more may follow at once. */
export interface EventPage {
  events: StoredEvent[]
  cursor: string | null
  /**
   * True when the page is full, so the next read may return more at once;
   * false once the read has caught up with the log (the cursor then stands at
   * the end of what it could see, past events the filter left out).
   */
  more: boolean
}

/** The event log as the feed reads it (drivers: read.ts). */
export interface EventStore {
  /**
   * Events after `cursor` (null: from the start) in commit order, at most
   * `limit`, only those `filter` takes, and the cursor to pass next time.
   * Cursors are opaque strings, and a cursor read with one filter is read on
   * with the same one. One read does a bounded amount of work: a filter
   * without an index (a queue) looks at a bounded stretch of the log, and
   * says `more` when there is more to look at.
   */
  readEvents(cursor: string | null, limit: number, filter?: EventFilter): Promise<EventPage>
  /**
   * A cursor at the end of the log: reading from it returns only events
   * committed after this call, and every one of them (on PostgreSQL the
   * cursor carries the snapshot of the moment, so a transaction still in
   * progress then is neither lost nor one that had committed replayed).
   */
  eventsTail(): Promise<string | null>
  /** The cursor just after the event with this id, or null if there is no such event. */
  eventCursorAfter(id: number): Promise<string | null>
}

/** API keys: only their hashes are stored (drivers: keys.ts). */
export interface KeyStore {
  /** Stores a key; its principal is created on first use of the name. CONFLICT if the name has another role. */
  createApiKey(key: ApiKeyRecord): Promise<ApiKeyInfo>
  /** The live (not revoked) key with this hash. */
  findApiKey(hash: string): Promise<ApiKeyInfo | null>
  listApiKeys(): Promise<ApiKeyInfo[]>
  /** False if there is no such live key. Ends the key's sessions too. */
  revokeApiKey(id: string): Promise<boolean>
  /** Sets the key's `last_used_at` to now; callers throttle it (it is not a write per request). */
  markApiKeyUsed(id: string): Promise<void>
}

/** Dashboard sessions and viewer tokens: only their hashes are stored (drivers: sessions.ts). */
export interface SessionStore {
  /** Stores a new session, and deletes the expired ones on the way. */
  createSession(session: SessionRecord): Promise<SessionInfo>
  /** The live session with this hash: not expired, and its key not revoked. */
  findSession(idHash: string): Promise<SessionInfo | null>
  /** Ends a session (signing out); nothing happens for an unknown one. */
  deleteSession(idHash: string): Promise<void>
  /** Stores a viewer token (and drops expired ones). */
  createViewerToken(token: ViewerTokenRecord): Promise<ViewerTokenInfo>
  /** Ends every live viewer token of the job; returns how many. */
  revokeViewerTokens(jobId: string): Promise<number>
  /** The job a live (unexpired) viewer token opens, or null. */
  findViewerToken(hash: string): Promise<ViewerTokenInfo | null>
}

/** The registry of workers: who runs, with what, heard from when (drivers: workers.ts). */
export interface WorkerRegistryStore {
  registerWorker(worker: WorkerRecord): Promise<void>
  /** Records a heartbeat and the current load. False if the worker is unknown or was marked lost. */
  heartbeatWorker(id: string, load: number): Promise<boolean>
  /** Marks the worker stopped and releases every job it holds (attempts not counted). Returns how many. */
  deregisterWorker(id: string): Promise<number>
  getWorker(id: string): Promise<WorkerInfo | null>
  listWorkers(): Promise<WorkerInfo[]>
  /**
   * Marks workers silent for longer than `silentForMs` as lost; their leases
   * are left to expire on their own (the worker may be alive and merely
   * heartbeating less often than the caller's threshold). Returns their ids.
   * With `fence`, as in recoverExpiredLeases.
   */
  markLostWorkers(silentForMs: number, fence?: LeaderTerm): Promise<string[]>
  /** Forgets a worker that is not up: 'removed'; 'up' when it is (nothing changes); null when there is none. */
  removeWorker(id: string): Promise<'removed' | 'up' | null>
  /** Forgets stopped and lost workers last heard from more than `olderThanMs` ago. With `fence`, as above. */
  pruneWorkers(olderThanMs: number, fence?: LeaderTerm): Promise<string[]>
}

/** Named leadership leases with fenced terms (drivers: leadership.ts). */
export interface LeadershipStore {
  /**
   * Takes or renews the named leadership for `holder` for `ttlMs`: a lease row
   * taken when it is free, lapsed, or already `holder`'s. Returns the term
   * held, or null while another holder's lease runs. A new term starts when
   * the holder changes or its lease had lapsed; a renewal keeps the term. Only
   * one process at a time runs maintenance.
   */
  acquireLeadership(name: string, holder: string, ttlMs: number): Promise<LeaderTerm | null>
  /** Ends the term at once, so another process can take over without waiting for the lease. */
  releaseLeadership(term: LeaderTerm): Promise<void>
}

/** Schedules and their runs (drivers: schedules.ts). */
export interface ScheduleStore {
  /**
   * Stores a schedule; its ticks count from now (the store's clock). CONFLICT
   * if its owner already has a schedule of that name.
   */
  createSchedule(schedule: ScheduleRecord): Promise<Schedule>
  /** Reads the schedule, lets `change` compute the new record, and writes it, in one transaction. NOT_FOUND if none. */
  updateSchedule(id: string, change: ScheduleChange): Promise<Schedule>
  getSchedule(id: string): Promise<Schedule | null>
  /** Schedules by name; only `owner`'s when given (null: the schedules nobody owns). */
  listSchedules(filter: { owner?: string | null; name?: string }): Promise<Schedule[]>
  /** Deletes a schedule and its runs; false if there was none. Jobs it made stay. */
  deleteSchedule(id: string): Promise<boolean>
  /** A schedule's latest runs, newest first, each with its job's current status. */
  listScheduleRuns(id: string, limit: number): Promise<ScheduleRun[]>
  /** Ids of the enabled schedules with a tick due by now, soonest first. */
  dueSchedules(limit: number): Promise<string[]>
  /**
   * Runs one schedule in one transaction: its due ticks as core's planTicks
   * decides (or, `manual`, one run now), each recorded as a run unique per
   * schedule and tick time, with the job `build` makes unless overlap says
   * skip. Returns the runs written (none if nothing was due or the schedule is gone).
   */
  fireSchedule(id: string, build: BuildScheduledJob, params?: FireParams): Promise<ScheduleRun[]>
}

/**
 * Everything Docket asks of a database: the intersection of the stores by noun above, as
 * River's driver executor and Oban's engine are one contract made of parts. A driver implements
 * each part (sqlite/index.ts, postgres/index.ts); the conformance suite names the part each file tests.
 */
export type Store = StoreConnection &
  QueueStore &
  JobStore &
  JobControlStore &
  LeaseStore &
  QueueStatsStore &
  MaintenanceStore &
  BatchStore &
  ArtifactStore &
  NotificationStore &
  EventStore &
  KeyStore &
  SessionStore &
  WorkerRegistryStore &
  LeadershipStore &
  ScheduleStore
