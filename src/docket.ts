/**
 * Docket: the library's front door. It validates every argument (core/options),
 * resolves defaults (core/resolve) and hands complete records to the Store.
 * Nothing here writes SQL, and nothing is written when an argument is bad.
 * The class only delegates, to a module per noun: docket/queues.ts, jobs.ts,
 * bulk.ts, batches.ts, files.ts, schedules.ts and worker-protocol.ts.
 */

import type { Readable } from 'node:stream'
import { type ArtifactRouter, openArtifactStorage } from './artifacts/open.js'
import { DocketError, invalidArgument } from './core/errors.js'
import {
  type CleanupInput,
  docketOptions,
  type JobInput,
  type ListJobsInput,
  type PriorityName,
  parse,
  type QueueCreateInput,
  type QueueUpdateInput,
  type SqliteDatabase,
} from './core/options.js'
import type { RateLimitUse } from './core/rate-limits.js'
import type {
  Schedule,
  ScheduleCreateInput,
  ScheduleDetail,
  ScheduleRun,
  ScheduleUpdateInput,
} from './core/schedules.js'
import type { QueueHealth } from './core/stats.js'
import type {
  Artifact,
  BatchSummary,
  GroupCount,
  Job,
  JobEvent,
  LeaderTerm,
  Queue,
  StatusCounts,
  UpstreamJob,
  WorkerInfo,
} from './core/types.js'
import type { Access } from './docket/access.js'
import type { BatchAdded, BatchOptions } from './docket/batches.js'
import { actOnJobs, type BulkAction, type BulkOutcome, type BulkTarget } from './docket/bulk.js'
import type { FilesAdded } from './docket/files.js'
import { internalsOf } from './docket/internals.js'
import type { AddOptions } from './docket/jobs.js'
import type { Leadership } from './docket/leadership.js'
import { type DocketParts, docketParts } from './docket/parts.js'
import type { WaitOptions } from './docket/results.js'
import * as schedules from './docket/schedules.js'
import type {
  AnyTasks,
  TaskArguments,
  TaskInput,
  TaskJob,
  TaskJobDetail,
  TaskMap,
  TaskName,
} from './docket/tasks.js'
import type { DocketOptions, DocketStats, FileInput, JobOptions, JobPage } from './docket/types.js'
import type { WorkerProtocol } from './docket/worker-protocol.js'
import type { DocketEvent, SubscribeOptions, Subscription } from './events/feed.js'
import { databaseTarget, openStore } from './storage/open.js'
import type { Store } from './storage/store.js'

// Re-exported for src/ files that take them with the class; users import them from the package (index.ts).
export type { DocketOptions, FileInput } from './docket/types.js'
export { RetryAfterError, UnrecoverableError } from './docket/types.js'

export class Docket<Tasks extends TaskMap = AnyTasks> {
  readonly #store: Store
  readonly #p: DocketParts
  /** Where artifact bytes are kept (artifacts/open.ts). */
  readonly artifacts: ArtifactRouter
  /** The worker protocol: registry, claims, leases, reports, outcomes, output files (docket/worker-protocol.ts). */
  readonly workers: WorkerProtocol
  #closed = false

  private constructor(store: Store, options: DocketOptions, artifacts: ArtifactRouter) {
    this.#store = store
    this.artifacts = artifacts
    this.#p = docketParts(this, store, () => this.#open(), options, artifacts)
    this.workers = this.#p.workers
  }

  /**
   * Opens a database (nothing or a path for SQLite, `postgres://…` for
   * PostgreSQL) and migrates it, unless `migrate: false`; a schema newer than
   * this code is refused (SCHEMA_NEWER). `Docket.open<Tasks>(url)` binds job
   * type names to their payloads and results at compile time (docket/tasks.ts).
   */
  static async open<T extends TaskMap = AnyTasks>(
    options: DocketOptions & { database: SqliteDatabase },
  ): Promise<Docket<T>>
  static async open<T extends TaskMap = AnyTasks>(url?: string, options?: DocketOptions): Promise<Docket<T>>
  static async open<T extends TaskMap = AnyTasks>(
    urlOrOptions?: string | DocketOptions,
    options: DocketOptions = {},
  ): Promise<Docket<T>> {
    const byHandle = typeof urlOrOptions === 'object' && urlOrOptions !== null
    const url = byHandle ? undefined : urlOrOptions
    const valid = parse(docketOptions, byHandle ? urlOrOptions : options, 'Docket options')
    if (url !== undefined && typeof url !== 'string') {
      throw invalidArgument('the database URL must be a string', [
        { path: 'url', message: 'expected a string' },
      ])
    }
    const { database } = valid
    const store = await openStore(url, {
      directUrl: valid.directUrl,
      clock: valid.clock,
      database,
      migrate: valid.migrate,
      maxPayloadBytes: valid.maxPayloadBytes,
      searchTimeoutMs: valid.searchTimeoutMs,
    })
    try {
      const target = databaseTarget(url, database)
      return new Docket<T>(store, valid, await openArtifactStorage(valid, target, store))
    } catch (error) {
      await store.close()
      throw error
    }
  }

  get driver(): 'sqlite' | 'postgres' {
    return this.#store.driver
  }

  /** The time by this Docket's clock (a test's clock when one was given). */
  now(): Date {
    return this.#p.ctx.clock.now()
  }

  /** The store, refusing (CLOSED) once this Docket is closed. */
  #open(): Store {
    if (this.#closed) throw new DocketError('CLOSED', 'this Docket has been closed')
    return this.#store
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#p.waiters.close()
    this.artifacts.close()
    await this.#store.close()
  }

  async ping(): Promise<void> {
    await this.#open().ping()
  }

  // Queues (docket/queues.ts)

  async createQueue(input: QueueCreateInput): Promise<Queue> {
    return this.#p.queues.createQueue(input)
  }
  async updateQueue(name: string, patch: QueueUpdateInput): Promise<Queue> {
    return this.#p.queues.updateQueue(name, patch)
  }
  async getQueue(name: string): Promise<Queue> {
    return this.#p.queues.getQueue(name)
  }
  async listQueues(): Promise<Queue[]> {
    return this.#p.queues.listQueues()
  }
  async deleteQueue(name: string, options: { force?: boolean } = {}): Promise<void> {
    return this.#p.queues.deleteQueue(name, options)
  }
  async pauseQueue(name: string): Promise<Queue> {
    return this.#p.queues.updateQueue(name, { status: 'paused' })
  }
  async resumeQueue(name: string): Promise<Queue> {
    return this.#p.queues.resumeQueue(name)
  }
  /** The queue's rate limit as it stands (starts in the window, when the next slot opens); null without one. */
  async rateLimitUse(queue: string): Promise<RateLimitUse | null> {
    return this.#p.queues.rateLimitUse(queue)
  }
  /** A queue's health now: latency, 1- and 5-minute rates, backlog trend, stalled, top errors; `owner`'s jobs only when given. */
  async queueHealth(queue: string, filter: { owner?: string } = {}): Promise<QueueHealth> {
    return this.#p.queues.queueHealth(queue, filter)
  }
  /** Counts of jobs by status, per queue (every queue, or the one named); only `owner`'s jobs when given. */
  async countJobs(queue?: string, filter: { owner?: string } = {}): Promise<Record<string, StatusCounts>> {
    return this.#p.queues.countJobs(queue, filter)
  }
  /** Counts by state, and for the last hour and day: throughput, failure rate, wait and run time percentiles, series. */
  async stats(queue?: string): Promise<DocketStats> {
    return this.#p.queues.stats(queue)
  }

  // Adding jobs (docket/jobs.ts)

  /** Adds one job: `add({ queue, type, payload, ...options })` or `add(queue, type, payload, options)`. */
  async add<K extends TaskName<Tasks>>(
    input: TaskInput<Tasks, K>,
    options?: AddOptions,
  ): Promise<TaskJob<Tasks, K>>
  async add<K extends TaskName<Tasks>>(
    queue: string,
    type: K,
    ...rest: TaskArguments<Tasks, K>
  ): Promise<TaskJob<Tasks, K>>
  async add(inputOrQueue: unknown, typeOrOptions?: unknown, payload?: unknown, options?: JobOptions) {
    return this.#p.jobs.add(inputOrQueue, typeOrOptions, payload, options)
  }

  /**
   * Adds jobs in one transaction: all or none. Jobs may depend on jobs added
   * in the same call (give them ids). A job whose dedupe key matches a live
   * job of its queue returns that job instead of a new one.
   */
  async addMany(inputs: TaskInput<Tasks>[], options?: AddOptions): Promise<TaskJob<Tasks>[]> {
    return (await this.#p.jobs.addMany(inputs as never, options)) as TaskJob<Tasks>[]
  }

  // Batches (docket/batches.ts)

  /** Adds jobs as one batch, in one transaction. The batch's owner is the owner of every job that does not name one. */
  async addBatch(
    inputs: TaskInput<Tasks>[],
    options: BatchOptions = {},
  ): Promise<BatchAdded<TaskJob<Tasks>>> {
    return (await this.#p.batches.addBatch(inputs as unknown as JobInput[], options)) as BatchAdded<
      TaskJob<Tasks>
    >
  }
  /** A batch with its counts by status and overall progress. */
  async getBatch(id: string): Promise<BatchSummary> {
    return this.#p.batches.getBatch(id)
  }
  /** Batches newest first, `owner`'s only when given; pass the last id as `before` for the next page. */
  async listBatches(
    filter: { owner?: string; before?: string; limit?: number } = {},
  ): Promise<BatchSummary[]> {
    return this.#p.batches.listBatches(filter)
  }
  /** Cancels every job of the batch that has not finished. Returns how many were cancelled. */
  async cancelBatch(id: string): Promise<number> {
    return this.#p.batches.cancelBatch(id)
  }
  /** Retries every failed job of the batch. Returns how many were retried. */
  async retryBatch(id: string): Promise<number> {
    return this.#p.batches.retryBatch(id)
  }

  // Reading jobs (docket/jobs.ts)

  /**
   * Calls `listener` for every event (optionally of one queue or job), in commit order, from any
   * process. A listener that returns a promise holds back the next event until it settles.
   */
  async subscribe(
    listener: (event: DocketEvent) => void | Promise<void>,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    return this.#p.jobs.subscribe(listener, options)
  }
  /** A job with its event history, its attempts, its dependencies and its artifacts. NOT_FOUND if there is none. */
  async getJob(id: string): Promise<TaskJobDetail<Tasks, { artifacts: Artifact[] }>> {
    return (await this.#p.jobs.getJob(id)) as TaskJobDetail<Tasks, { artifacts: Artifact[] }>
  }
  /**
   * Resolves with the job (as getJob gives it) once it has completed, failed or
   * been cancelled, by a worker in any process; at once if it already has.
   * WAIT_TIMEOUT after `timeoutMs` (default: a day), NOT_FOUND if there is no
   * such job or it is deleted meanwhile. Every waiter of this Docket shares one
   * tail of the event log (docket/results.ts).
   */
  async waitForJob(
    id: string,
    options: WaitOptions = {},
  ): Promise<TaskJobDetail<Tasks, { artifacts: Artifact[] }>> {
    return (await this.#p.waiters.wait(id, options)) as TaskJobDetail<Tasks, { artifacts: Artifact[] }>
  }
  /** A job as it is now, without its history; null if there is none (for access checks that must not throw). */
  async findJob(id: string): Promise<TaskJob<Tasks> | null> {
    return (await this.#p.jobs.findJob(id)) as TaskJob<Tasks> | null
  }
  /** The jobs `id` depends on with their type, status, `on` and result: what a handler reads with `ctx.upstream()`. */
  async upstream(id: string): Promise<UpstreamJob[]> {
    return this.#p.jobs.upstream(id)
  }
  async getJobEvents(id: string, options: { afterId?: number; limit?: number } = {}): Promise<JobEvent[]> {
    return this.#p.jobs.getJobEvents(id, options)
  }
  /** A page of jobs, newest first unless `sort`/`order` say otherwise; pass `nextCursor` back as `cursor`. */
  async listJobs(filter: ListJobsInput = {}): Promise<JobPage> {
    return this.#p.jobs.listJobs(filter)
  }

  // Files (docket/files.ts)

  /** Adds a job with input files, stored first; a failure at any point removes them: no job, no file. */
  async addWithFiles<K extends TaskName<Tasks>>(
    input: TaskInput<Tasks, K>,
    files: Iterable<FileInput> | AsyncIterable<FileInput>,
  ): Promise<FilesAdded<TaskJob<Tasks, K>>> {
    return (await this.#p.files.addWithFiles(input as JobInput, files)) as FilesAdded<TaskJob<Tasks, K>>
  }
  async listArtifacts(jobId: string): Promise<Artifact[]> {
    return this.#p.files.listArtifacts(jobId)
  }
  /** An artifact's record, without opening its file. NOT_FOUND if there is none. */
  async getArtifact(id: string): Promise<Artifact> {
    return this.#p.files.getArtifact(id)
  }
  /** An artifact's record and its file as a stream, open: read or destroy it at once. */
  async openArtifact(id: string): Promise<{ artifact: Artifact; stream: Readable }> {
    return this.#p.files.openArtifact(id)
  }

  // Operator actions (docket/jobs.ts, docket/bulk.ts)

  async cancelJob(id: string): Promise<Job> {
    return this.#p.jobs.cancelJob(id)
  }
  async retryJob(id: string): Promise<Job> {
    return this.#p.jobs.retryJob(id)
  }
  async setPriority(id: string, priority: number | PriorityName): Promise<Job> {
    return this.#p.jobs.setPriority(id, priority)
  }
  /** Promotes held (manual-mode) or scheduled jobs to waiting: by ids, or every held job of a queue. */
  async promote(target: string | string[] | { queue: string }): Promise<number> {
    return this.#p.jobs.promote(target)
  }
  /** Retries, cancels, promotes or deletes every job matching `{ filter }` or each of `{ ids }` (docket/bulk.ts). */
  async actOnJobs(action: BulkAction, target: BulkTarget): Promise<BulkOutcome> {
    return actOnJobs(this.#p.jobs, action, target)
  }
  async removeJob(id: string): Promise<void> {
    return this.#p.jobs.removeJob(id)
  }
  /** Deletes finished jobs older than `olderThanMs`, or, without it, older than each queue's retention. */
  async cleanup(input: CleanupInput = {}): Promise<number> {
    return this.#p.maintenance.cleanup(input)
  }
  /** Registered workers with their kind, capabilities, load and last heartbeat. */
  async listWorkers(): Promise<WorkerInfo[]> {
    return this.#open().listWorkers()
  }

  // Schedules (docket/schedules.ts)

  /** Creates a schedule: cron (optional seconds, `timezone`) or `every` ms; its jobs are owned by its owner. */
  async createSchedule(input: ScheduleCreateInput): Promise<Schedule> {
    return schedules.createSchedule(this.#p.schedules(), input)
  }
  async updateSchedule(id: string, patch: ScheduleUpdateInput): Promise<Schedule> {
    return schedules.updateSchedule(this.#p.schedules(), id, patch)
  }
  async pauseSchedule(id: string): Promise<Schedule> {
    return schedules.updateSchedule(this.#p.schedules(), id, { enabled: false })
  }
  /** Resumes a paused schedule; ticks missed while it was paused are not caught up. */
  async resumeSchedule(id: string): Promise<Schedule> {
    return schedules.updateSchedule(this.#p.schedules(), id, { enabled: true })
  }
  async deleteSchedule(id: string): Promise<void> {
    return schedules.deleteSchedule(this.#p.schedules(), id)
  }
  /** Schedules by name; only `owner`'s when given (null: those nobody owns). */
  async listSchedules(filter: { owner?: string | null; name?: string } = {}): Promise<Schedule[]> {
    return schedules.listSchedules(this.#p.schedules(), filter)
  }
  /** A schedule with its next run times and its latest runs (newest first) and their outcomes. */
  async getSchedule(id: string, options: { next?: number; runs?: number } = {}): Promise<ScheduleDetail> {
    return schedules.scheduleDetail(this.#p.schedules(), id, options)
  }
  /** Runs a schedule once now (also while paused), as a manual run. */
  async runSchedule(id: string): Promise<ScheduleRun> {
    return schedules.runSchedule(this.#p.schedules(), id)
  }

  // Deprecated: kept one release. The maintenance pass (worker/maintenance.ts) runs these itself.

  /** @deprecated the maintenance pass (`Maintenance`, which Workers and `docket serve` run) recovers expired leases. */
  async recoverExpiredLeases(fence?: LeaderTerm): Promise<number> {
    return this.#p.maintenance.recoverExpiredLeases(fence)
  }
  /** @deprecated the maintenance pass (`Maintenance`, which Workers and `docket serve` run) expires jobs. */
  async expireJobs(fence?: LeaderTerm): Promise<number> {
    return this.#p.maintenance.expireJobs(fence)
  }
  /** @deprecated the maintenance pass (`Maintenance`, which Workers and `docket serve` run) runs due schedules. */
  async runDueSchedules(fence?: LeaderTerm): Promise<ScheduleRun[]> {
    return this.#p.maintenance.runDueSchedules(fence)
  }
  /** @deprecated the maintenance pass holds its leadership itself. */
  get leadership(): Leadership {
    return this.#p.maintenance.leadership
  }
  /** @deprecated server plumbing: API keys and sessions are the server's (`docket keys`, the HTTP API). */
  get access(): Access {
    return internalsOf(this).access
  }
  /** @deprecated use the HTTP API's GET /api/v1/jobs/suggestions. */
  async jobFilterSuggestions(
    filter: { owner?: string } = {},
  ): Promise<{ queues: string[]; types: string[] }> {
    return internalsOf(this).dashboard.jobFilterSuggestions(filter)
  }
  /** @deprecated use the HTTP API's GET /api/v1/queues/:name (its `groups`). */
  async groupCounts(queue: string, filter: { owner?: string; limit?: number } = {}): Promise<GroupCount[]> {
    return internalsOf(this).dashboard.groupCounts(queue, filter)
  }
}
