/**
 * Docket: the library's front door. It validates every argument (core/options),
 * resolves defaults (core/resolve) and hands complete records to the Store.
 * Nothing here writes SQL, and nothing is written when an argument is bad.
 */

import type { Readable } from 'node:stream'
import { v7 as uuidv7 } from 'uuid'
import { type ArtifactRouter, openArtifactStorage } from './artifacts/open.js'
import { DEFAULT_MAX_ARTIFACT_BYTES, storeFile } from './artifacts/storage.js'
import { type Clock, systemClock } from './core/clock.js'
import { decodeCursor, encodeCursor } from './core/cursor.js'
import { DocketError, invalidArgument, isDocketError, notFound } from './core/errors.js'
import { COUNT_LIMIT, jobMatch, matchCount, SUGGESTION_SAMPLE } from './core/job-search.js'
import {
  type BatchThenInput,
  batchOptions,
  type CleanupInput,
  cleanupInput,
  deleteQueueOptions,
  docketOptions,
  eventsQuery,
  type JobInput,
  jobInput,
  type ListJobsInput,
  listBatchesInput,
  listJobsInput,
  type PriorityName,
  parse,
  priority as priorityInput,
  priorityValue,
  type QueueCreateInput,
  type QueueUpdateInput,
  queueCreateInput,
  queueUpdateInput,
  type SqliteDatabase,
  suggestionsInput,
} from './core/options.js'
import { type RateLimitUse, rateLimitUse } from './core/rate-limits.js'
import {
  applyQueueUpdate,
  assertJsonValue,
  DEFAULT_MAX_PAYLOAD_BYTES,
  resolveJob,
  resolveQueue,
} from './core/resolve.js'
import type {
  Schedule,
  ScheduleCreateInput,
  ScheduleDetail,
  ScheduleRun,
  ScheduleUpdateInput,
} from './core/schedules.js'
import { type QueueHealth, queueHealth, windowStats } from './core/stats.js'
import {
  emptyCounts,
  JOB_STATUSES,
  type Job,
  type JobDetail,
  type JobEvent,
  type JobStatus,
  LIVE_STATUSES,
  type Queue,
  type StatusCounts,
  type UpstreamJob,
} from './core/types.js'
import { Access } from './docket/access.js'
import { checkId, checkJobId, checkQueueName } from './docket/arguments.js'
import { thenJob } from './docket/batch-then.js'
import {
  appliesTo,
  BULK_ACTIONS,
  BULK_CHUNK,
  type BulkAction,
  type BulkOutcome,
  type BulkTarget,
  bulkStatuses,
  bulkTarget,
} from './docket/bulk.js'
import { Leadership } from './docket/leadership.js'
import * as schedules from './docket/schedules.js'
import { registerStore } from './docket/store-of.js'
import type {
  AnyTasks,
  TaskArguments,
  TaskInput,
  TaskJob,
  TaskJobDetail,
  TaskMap,
  TaskName,
} from './docket/tasks.js'
import {
  DEFAULT_LEASE_MS,
  type DocketOptions,
  type DocketStats,
  type FileInput,
  type JobOptions,
  type JobPage,
} from './docket/types.js'
import { WorkerProtocol } from './docket/worker-protocol.js'
import { type DocketEvent, type SubscribeOptions, type Subscription, subscribe } from './events/feed.js'
import { databaseTarget, openStore } from './storage/open.js'
import type {
  Artifact,
  ArtifactRecord,
  BatchRecord,
  BatchSummary,
  CallerTransaction,
  JobFilter,
  LeaderTerm,
  Store,
} from './storage/store.js'
import { traceAdd } from './tracing/spans.js'

export type {
  DocketOptions,
  DocketStats,
  FailureInput,
  FileInput,
  JobOptions,
  JobPage,
  Leased,
} from './docket/types.js'
export { DEFAULT_LEASE_MS, RetryAfterError, UnrecoverableError } from './docket/types.js'

export class Docket<Tasks extends TaskMap = AnyTasks> {
  readonly #store: Store
  readonly #maxPayloadBytes: number
  readonly #defaultLeaseMs: number
  readonly #maxArtifactBytes: number
  readonly #clock: Clock
  /** Where artifact bytes are kept (artifacts/open.ts). */
  readonly artifacts: ArtifactRouter
  /** The worker protocol: registry, claims, leases, reports, outcomes, output files (docket/worker-protocol.ts). */
  readonly workers: WorkerProtocol
  /** API keys and dashboard sessions, for the server (docket/access.ts). */
  readonly access: Access
  /** Named leadership leases with fenced terms, for the maintenance pass (docket/leadership.ts). */
  readonly leadership: Leadership
  #closed = false

  private constructor(store: Store, options: DocketOptions, artifacts: ArtifactRouter) {
    this.#store = store
    this.artifacts = artifacts
    this.#maxArtifactBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
    this.#defaultLeaseMs = options.defaultLeaseMs ?? DEFAULT_LEASE_MS
    this.#clock = options.clock ?? systemClock
    const open = () => this.#open()
    this.workers = new WorkerProtocol(open, {
      maxPayloadBytes: this.#maxPayloadBytes,
      maxArtifactBytes: this.#maxArtifactBytes,
      defaultLeaseMs: this.#defaultLeaseMs,
      artifacts,
      wake: (queues) => this.#wake(queues),
    })
    this.access = new Access(open)
    this.leadership = new Leadership(open)
    registerStore(this, store)
  }

  /** Opens (and migrates) a database: nothing or a path for SQLite, `postgres://…` for PostgreSQL. */
  /**
   * Opens (and migrates) a database. `Docket.open<Tasks>(url)` binds job type
   * names to their payloads and results at compile time (docket/tasks.ts).
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
    return this.#clock.now()
  }

  /** The store, refusing (CLOSED) once this Docket is closed. */
  #open(): Store {
    this.#assertOpen()
    return this.#store
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.artifacts.close()
    await this.#store.close()
  }

  async ping(): Promise<void> {
    await this.#open().ping()
  }

  // Queues

  async createQueue(input: QueueCreateInput): Promise<Queue> {
    return this.#open().createQueue(resolveQueue(parse(queueCreateInput, input, 'queue')))
  }

  async updateQueue(name: string, patch: QueueUpdateInput): Promise<Queue> {
    const valid = parse(queueUpdateInput, patch, 'queue update')
    return this.#open().updateQueue(checkQueueName(name), (current) => applyQueueUpdate(current, valid))
  }

  async getQueue(name: string): Promise<Queue> {
    const queue = await this.#open().getQueue(checkQueueName(name))
    if (!queue) throw notFound('queue', name)
    return queue
  }

  async listQueues(): Promise<Queue[]> {
    return this.#open().listQueues()
  }

  async deleteQueue(name: string, options: { force?: boolean } = {}): Promise<void> {
    const o = parse(deleteQueueOptions, options, 'delete options')
    await this.#open().deleteQueue(checkQueueName(name), o.force === true)
  }

  async pauseQueue(name: string): Promise<Queue> {
    return this.updateQueue(name, { status: 'paused' })
  }

  async resumeQueue(name: string): Promise<Queue> {
    const queue = await this.updateQueue(name, { status: 'active' })
    await this.#wake([queue.name])
    return queue
  }

  // Adding jobs

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
  async add(
    inputOrQueue: unknown,
    typeOrOptions?: unknown,
    payload?: unknown,
    options: JobOptions = {},
  ): Promise<Job> {
    if (typeof inputOrQueue === 'string') {
      const input = { ...options, queue: inputOrQueue, type: typeOrOptions, payload }
      return (await this.#addMany([input as JobInput])).jobs[0]!
    }
    const add = addOptions(typeOrOptions)
    return (await this.#addMany([inputOrQueue as JobInput], null, [], add.client)).jobs[0]!
  }

  /**
   * Adds jobs in one transaction: all or none. Jobs may depend on jobs added
   * in the same call (give them ids). A job whose dedupe key matches a live
   * job of its queue returns that job instead of a new one.
   */
  async addMany(inputs: TaskInput<Tasks>[], options?: AddOptions): Promise<TaskJob<Tasks>[]> {
    const { client } = addOptions(options)
    return (await this.#addMany(inputs as unknown as JobInput[], null, [], client)).jobs as TaskJob<Tasks>[]
  }

  /** `then`: one more job, depending on every one of `inputs` with `completion` (a batch's `then`). */
  async #addMany(
    inputs: JobInput[],
    batch: BatchRecord | null = null,
    artifacts: ArtifactRecord[] = [],
    client?: CallerTransaction,
    then: { id: string; input: JobInput } | null = null,
  ) {
    const batchId = batch?.id ?? null
    if (!Array.isArray(inputs))
      throw invalidArgument('jobs must be an array', [{ path: '', message: 'expected an array' }])
    if (inputs.length === 0) return { jobs: [], deduplicated: [] }
    if (inputs.length > 50_000) {
      throw invalidArgument(`at most 50000 jobs per call, got ${inputs.length}`, [
        { path: '', message: 'too many jobs' },
      ])
    }
    const valid = inputs.map((input, i) => {
      const job = parse(jobInput, input, inputs.length > 1 ? `job ${i}` : 'job')
      assertJsonValue(
        job.payload === undefined ? null : job.payload,
        inputs.length > 1 ? `jobs.${i}.payload` : 'payload',
        this.#maxPayloadBytes,
      )
      return job
    })
    const queueNames = [...valid.map((j) => j.queue), ...(then ? [then.input.queue] : [])]
    // Traced (tracing/spans.ts): each job stores the add's trace context, for its run's span.
    return traceAdd(valid, (traceContext) =>
      this.#open().addJobs(
        queueNames,
        (queues) => {
          const jobs = valid.map((j) => resolveJob(j, queues.get(j.queue)!, uuidv7(), batchId))
          if (then) jobs.push(thenJob(then.input, queues.get(then.input.queue)!, then.id, jobs))
          return jobs.map((job) => ({ ...job, traceContext }))
        },
        { batch: batch ?? undefined, artifacts, ...(client ? { transaction: client } : {}) },
      ),
    )
  }

  /** Wakes idle workers of these queues in every process; a failure here only delays pickup until the next poll. */
  async #wake(queues: string[]): Promise<void> {
    if (queues.length === 0) return
    await this.#store.notifyReady([...new Set(queues)]).catch(() => {})
  }

  // Batches

  /**
   * Adds jobs as one batch, in one transaction. The batch's owner is the
   * owner of every job that does not name one.
   */
  async addBatch(
    inputs: TaskInput<Tasks>[],
    options: { name?: string; owner?: string; then?: BatchThenInput } & AddOptions = {},
  ): Promise<{ batch: BatchSummary; jobs: TaskJob<Tasks>[]; thenJob?: Job }> {
    const { client, ...batchFields } = (options ?? {}) as AddOptions & Record<string, unknown>
    const o = parse(batchOptions, batchFields, 'batch options')
    addOptions({ client })
    if (!Array.isArray(inputs) || inputs.length === 0) {
      throw invalidArgument('a batch needs at least one job', [
        { path: 'jobs', message: 'expected a non-empty array' },
      ])
    }
    if (o.then) assertJsonValue(o.then.payload ?? null, 'then.payload', this.#maxPayloadBytes)
    const then = o.then ? { id: uuidv7(), input: { ...o.then, owner: o.owner ?? null } } : null
    const record: BatchRecord = {
      id: uuidv7(),
      name: o.name ?? null,
      owner: o.owner ?? null,
      thenJobId: then?.id ?? null,
    }
    const given = inputs as unknown as JobInput[]
    const withOwner = o.owner === undefined ? given : given.map((j) => ({ owner: o.owner, ...j }))
    const added = (await this.#addMany(withOwner, record, [], client, then)).jobs
    const jobs = then ? added.slice(0, -1) : added
    // In the caller's transaction the batch is not committed yet: others cannot read it, so it is summed up here.
    const batch = client ? newBatchSummary(record, jobs) : await this.getBatch(record.id)
    return then
      ? { batch, jobs: jobs as TaskJob<Tasks>[], thenJob: added[added.length - 1]! }
      : { batch, jobs: jobs as TaskJob<Tasks>[] }
  }

  /** A batch with its counts by status and overall progress. */
  async getBatch(id: string): Promise<BatchSummary> {
    const batch = await this.#open().getBatch(checkId(id, 'batch'))
    if (!batch) throw notFound('batch', id)
    return batch
  }

  /** Batches newest first, `owner`'s only when given; pass the last id as `before` for the next page. */
  async listBatches(
    filter: { owner?: string; before?: string; limit?: number } = {},
  ): Promise<BatchSummary[]> {
    const f = parse(listBatchesInput, filter, 'batch filter')
    return this.#open().listBatches({
      owner: f.owner ?? null,
      before: f.before ?? null,
      limit: f.limit ?? 50,
    })
  }

  /** Cancels every job of the batch that has not finished. Returns how many were cancelled. */
  async cancelBatch(id: string): Promise<number> {
    await this.getBatch(id)
    return this.#forEachInBatch(id, [...LIVE_STATUSES], (jobId) => this.#open().cancelJob(jobId))
  }

  /** Retries every failed job of the batch. Returns how many were retried. */
  async retryBatch(id: string): Promise<number> {
    await this.getBatch(id)
    return this.#forEachInBatch(id, ['failed'], (jobId) => this.retryJob(jobId))
  }

  /** Applies `action` to the batch's jobs in `statuses`; jobs that moved on meanwhile are skipped. */
  async #forEachInBatch(
    batchId: string,
    statuses: JobStatus[],
    action: (id: string) => Promise<unknown>,
  ): Promise<number> {
    let done = 0
    let cursor: string | undefined
    do {
      const page = await this.listJobs({ batchId, status: statuses, limit: 500, cursor, order: 'asc' })
      for (const job of page.jobs) {
        try {
          await action(job.id)
          done++
        } catch (error) {
          if (!isDocketError(error, 'INVALID_STATE') && !isDocketError(error, 'CONFLICT')) throw error
        }
      }
      cursor = page.nextCursor ?? undefined
    } while (cursor)
    return done
  }

  // Statistics

  /** Counts by state, and for the last hour and day: throughput, failure rate, wait and run time percentiles, series. */
  async stats(queue?: string): Promise<DocketStats> {
    if (queue !== undefined) await this.getQueue(queue)
    const now = this.#clock.now().getTime()
    const day = 24 * 3600_000
    const [counts, rows] = await Promise.all([
      this.countJobs(queue),
      this.#open().finishedJobs(queue ?? null, now - day, 50_000),
    ])
    const totals = emptyCounts()
    for (const c of Object.values(counts)) for (const s of JOB_STATUSES) totals[s] += c[s]
    return {
      queue: queue ?? null,
      counts: totals,
      lastHour: windowStats(rows, now, 3600_000, 60_000),
      lastDay: windowStats(rows, now, day, 15 * 60_000),
    }
  }

  // Events

  /** Calls `listener` for every event (optionally of one queue or job), in commit order, from any process. */
  async subscribe(
    listener: (event: DocketEvent) => void,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    if (options.queue !== undefined) checkQueueName(options.queue)
    if (options.jobId !== undefined) checkJobId(options.jobId)
    return subscribe(this.#open(), listener, options)
  }

  // Reading jobs

  /** A job with its event history, its attempts, its dependencies and its artifacts. NOT_FOUND if there is none. */
  async getJob(id: string): Promise<TaskJobDetail<Tasks, { artifacts: Artifact[] }>> {
    const job = await this.#open().getJob(checkJobId(id))
    if (!job) throw notFound('job', id)
    const [events, dependencies, artifacts, attemptHistory] = await Promise.all([
      this.#open().getJobEvents(job.id),
      this.#open().getJobDependencies(job.id),
      this.#open().listArtifacts(job.id),
      this.#open().getJobAttempts(job.id),
    ])
    const detail: JobDetail & { artifacts: Artifact[] } = {
      ...job,
      events,
      attemptHistory,
      dependencies,
      artifacts,
    }
    return detail as TaskJobDetail<Tasks, { artifacts: Artifact[] }>
  }

  /** A job as it is now, without its history; null if there is none (for access checks that must not throw). */
  async findJob(id: string): Promise<TaskJob<Tasks> | null> {
    return (await this.#open().getJob(checkJobId(id))) as TaskJob<Tasks> | null
  }

  /**
   * The jobs `id` depends on, each with its type, status, what `id` waits for
   * (`on`) and its result once completed: what a handler reads with
   * `ctx.upstream()`. NOT_FOUND if there is no job `id`.
   */
  async upstream(id: string): Promise<UpstreamJob[]> {
    const jobId = checkJobId(id)
    const [upstream, job] = await Promise.all([
      this.#open().getUpstreamJobs(jobId),
      this.#open().getJob(jobId),
    ])
    if (!job) throw notFound('job', id)
    return upstream
  }

  // Artifacts

  /**
   * Adds a job with input files: the files are stored first, one after
   * another as `files` yields them (each stream read to its end before the
   * next is asked for), then the job and their records in one transaction.
   * A failure at any point removes every file stored for it: no job, no file.
   */
  async addWithFiles<K extends TaskName<Tasks>>(
    input: TaskInput<Tasks, K>,
    files: Iterable<FileInput> | AsyncIterable<FileInput>,
  ): Promise<{ job: TaskJob<Tasks, K>; artifacts: Artifact[] }> {
    const job = parse(jobInput, input, 'job')
    // Checked before any file is read, so a bad payload does not cost an upload.
    assertJsonValue(job.payload === undefined ? null : job.payload, 'payload', this.#maxPayloadBytes)
    const id = (job.id as string | undefined) ?? uuidv7()
    const stored: ArtifactRecord[] = []
    try {
      for await (const file of files)
        stored.push(await storeFile(this.artifacts, id, 'input', file, this.#maxArtifactBytes))
      const { jobs, deduplicated } = await this.#addMany([{ ...input, id }], null, stored)
      // The dedupe key matched a live job: that job is the answer, and these files belong to nobody.
      if (deduplicated[0]) await this.#removeFiles(stored)
      const added = jobs[0]! as TaskJob<Tasks, K>
      return { job: added, artifacts: await this.#open().listArtifacts(added.id) }
    } catch (error) {
      await this.#removeFiles(stored)
      throw error
    }
  }

  async #removeFiles(records: ArtifactRecord[]): Promise<void> {
    await Promise.all(records.map((r) => this.artifacts.remove(r.storageKey).catch(() => {})))
  }

  async listArtifacts(jobId: string): Promise<Artifact[]> {
    return this.#open().listArtifacts(checkJobId(jobId))
  }

  /** An artifact's record and a stream of its bytes. */
  /** An artifact's record, without opening its file. NOT_FOUND if there is none. */
  async getArtifact(id: string): Promise<Artifact> {
    const artifact = await this.#open().getArtifact(checkId(id, 'artifact'))
    if (!artifact) throw notFound('artifact', id)
    return artifact
  }

  /**
   * An artifact's record and its file as a stream. The stream is open: read or
   * destroy it at once (an unread file stream that fails, say because the file
   * is gone, raises its error with nobody listening).
   */
  async openArtifact(id: string): Promise<{ artifact: Artifact; stream: Readable }> {
    const artifact = await this.getArtifact(id)
    return { artifact, stream: this.artifacts.open(artifact.storageKey) }
  }

  async getJobEvents(id: string, options: { afterId?: number; limit?: number } = {}): Promise<JobEvent[]> {
    const o = parse(eventsQuery, options, 'events query')
    return this.#open().getJobEvents(checkJobId(id), o.afterId ?? 0, o.limit ?? 1000)
  }

  /**
   * A page of jobs, newest first unless `sort`/`order` say otherwise; pass `nextCursor` back as
   * `cursor` for the next. `id`, `search` and `where` find jobs by id, text and payload values
   * (core/job-search.ts); `count: true` also counts every match, up to COUNT_LIMIT.
   */
  async listJobs(filter: ListJobsInput = {}): Promise<JobPage> {
    const f = parse(listJobsInput, filter, 'job filter')
    const sort = f.sort ?? 'createdAt'
    const order = f.order ?? 'desc'
    const limit = f.limit ?? 50
    const after = f.cursor ? decodeCursor(f.cursor, sort, order) : null
    const matching: JobFilter = {
      queue: f.queue,
      type: f.type,
      owner: f.owner,
      batchId: f.batchId,
      statuses: f.status === undefined ? undefined : [f.status].flat(),
      ...jobMatch(f),
    }
    const [jobs, counted] = await Promise.all([
      this.#open().listJobs({ ...matching, sort, order, limit, after }),
      f.count ? this.#open().countMatchingJobs(matching, COUNT_LIMIT + 1) : undefined,
    ])
    const last = jobs.length === limit ? jobs[jobs.length - 1] : undefined
    const nextCursor = last
      ? encodeCursor({
          sort,
          order,
          id: last.id,
          value: sort === 'priority' ? last.priority : last[sort].getTime(),
        })
      : null
    return counted === undefined ? { jobs, nextCursor } : { jobs, nextCursor, count: matchCount(counted) }
  }

  /**
   * What a job filter may suggest: queue names and job types. Types, and a user's queues, come
   * from the newest SUGGESTION_SAMPLE jobs (`owner`'s only, when given); without `owner`, every
   * queue is listed.
   */
  async jobFilterSuggestions(
    filter: { owner?: string } = {},
  ): Promise<{ queues: string[]; types: string[] }> {
    const owner = parse(suggestionsInput, filter, 'suggestions filter').owner ?? null
    const [pairs, queues] = await Promise.all([
      this.#open().recentQueueTypes(owner, SUGGESTION_SAMPLE),
      owner === null ? this.#open().listQueues() : [],
    ])
    const sorted = (names: Iterable<string>) => [...new Set(names)].sort()
    return {
      queues: sorted([...queues.map((q) => q.name), ...pairs.map((p) => p.queue)]),
      types: sorted(pairs.map((p) => p.type)),
    }
  }

  /** The queue's rate limit as it stands (starts in the window, when the next slot opens); null without one. */
  async rateLimitUse(queue: string): Promise<RateLimitUse | null> {
    const q = await this.getQueue(queue)
    if (!q.rateLimit) return null
    const counted = await this.#open().rateLimitUse(q.name)
    return counted && rateLimitUse(q.rateLimit, counted, this.#clock.now())
  }

  /** The queue's busiest groups with their active and waiting jobs; only `owner`'s jobs when given. */
  async groupCounts(queue: string, filter: { owner?: string; limit?: number } = {}) {
    const q = await this.getQueue(queue)
    const wanted = Math.trunc(filter.limit ?? 20)
    const limit = Number.isFinite(wanted) ? Math.min(Math.max(1, wanted), 100) : 20
    return this.#open().groupCounts(q.name, filter.owner ?? null, limit)
  }

  /**
   * A queue's health now (core/stats.ts): latency (age of the oldest ready
   * job), 1- and 5-minute rates, the backlog trend, whether it is paused with
   * jobs ready, and the top errors; only `owner`'s jobs when given.
   */
  async queueHealth(queue: string, filter: { owner?: string } = {}): Promise<QueueHealth> {
    const q = await this.getQueue(queue)
    const now = this.#clock.now().getTime()
    const row = await this.#open().queueHealth(q.name, filter.owner ?? null, now)
    return queueHealth(row, now, q.status === 'paused')
  }

  /** Counts of jobs by status, per queue (every queue, or the one named); only `owner`'s jobs when given. */
  async countJobs(queue?: string, filter: { owner?: string } = {}): Promise<Record<string, StatusCounts>> {
    if (queue !== undefined) await this.getQueue(queue)
    return Object.fromEntries(await this.#open().countJobs(queue ?? null, filter.owner ?? null))
  }

  // Operator actions

  async cancelJob(id: string): Promise<Job> {
    return this.#open().cancelJob(checkJobId(id))
  }

  async retryJob(id: string): Promise<Job> {
    const job = await this.#open().retryJob(checkJobId(id))
    if (job.status === 'waiting') await this.#wake([job.queue])
    return job
  }

  async setPriority(id: string, priority: number | PriorityName): Promise<Job> {
    const value = parse(priorityInput, priority, 'priority')
    return this.#open().setPriority(checkJobId(id), priorityValue(value))
  }

  /** Promotes held (manual-mode) or scheduled jobs to waiting: by ids, or every held job of a queue. */
  async promote(target: string | string[] | { queue: string }): Promise<number> {
    if (typeof target === 'object' && !Array.isArray(target)) {
      const queue = checkQueueName(target.queue)
      const n = await this.#open().promoteJobs({ queue })
      if (n > 0) await this.#wake([queue])
      return n
    }
    const ids = [target].flat()
    if (ids.length === 0) return 0
    const n = await this.#open().promoteJobs({ ids: [...new Set(ids.map(checkJobId))] })
    if (n > 0) await this.#wake(['*'])
    return n
  }

  /**
   * Retries, cancels, promotes or deletes every job matching `{ filter }` (the
   * filters and search of listJobs, `owner` included) or each of `{ ids }`
   * (only `owner`'s, when given: others count as missing), in chunks of
   * BULK_CHUNK, each job in its own transaction. Jobs in a state the action
   * does not apply to are not matched; see docket/bulk.ts.
   */
  async actOnJobs(action: BulkAction, target: BulkTarget): Promise<BulkOutcome> {
    if (typeof action !== 'string' || !Object.hasOwn(BULK_ACTIONS, action)) {
      throw invalidArgument(
        `unknown action ${JSON.stringify(action)}: expected ${Object.keys(BULK_ACTIONS).join(', ')}`,
        [{ path: 'action', message: `expected ${Object.keys(BULK_ACTIONS).join(' | ')}` }],
      )
    }
    const t = parse(bulkTarget, target, 'bulk target')
    const { owner } = t
    const outcome: BulkOutcome = { matched: 0, changed: 0 }
    const apply = async (job: Job) => {
      if (!appliesTo(action, job)) return
      outcome.matched++
      try {
        if (await this.#act(action, job.id)) outcome.changed++
      } catch (error) {
        // It moved on between the read and the action (finished, taken, deleted): matched, not changed.
        if (!['INVALID_STATE', 'CONFLICT', 'NOT_FOUND'].some((c) => isDocketError(error, c as never)))
          throw error
      }
    }
    if (t.ids) {
      for (const id of new Set(t.ids.map((i) => i.toLowerCase()))) {
        const job = await this.findJob(id)
        if (job && (owner === undefined || job.owner === owner)) await apply(job)
      }
      return outcome
    }
    // `owner` narrows a filter too: another owner's jobs are never matched.
    const given = t.filter ?? {}
    if (owner !== undefined && given.owner !== undefined && given.owner !== owner) return outcome
    const filter = owner === undefined ? given : { ...given, owner }
    const status = bulkStatuses(action, filter.status)
    if (status.length === 0) return outcome
    let cursor: string | undefined
    do {
      const page = await this.listJobs({ ...filter, status, limit: BULK_CHUNK, order: 'asc', cursor })
      for (const job of page.jobs) await apply(job)
      cursor = page.nextCursor ?? undefined
    } while (cursor)
    return outcome
  }

  /** One job of a bulk action; whether it changed. */
  async #act(action: BulkAction, id: string): Promise<boolean> {
    if (action === 'retry') await this.retryJob(id)
    else if (action === 'cancel') await this.cancelJob(id)
    else if (action === 'delete') await this.removeJob(id)
    else return (await this.promote(id)) > 0
    return true
  }

  async removeJob(id: string): Promise<void> {
    await this.#open().removeJob(checkJobId(id))
  }

  // Maintenance

  /** `fence`: the maintenance leader's term; the pass is refused (LEADERSHIP_LOST) once it is over. */
  async recoverExpiredLeases(fence?: LeaderTerm): Promise<number> {
    const n = await this.#open().recoverExpiredLeases(fence)
    if (n > 0) await this.#wake(['*'])
    return n
  }

  /** Ends jobs not started by their expiry (expiresAt / expiresInMs) as failed and expired. Returns how many. */
  async expireJobs(fence?: LeaderTerm): Promise<number> {
    return this.#open().expireJobs(fence)
  }

  /** Registered workers with their kind, capabilities, load and last heartbeat. */
  async listWorkers() {
    return this.#open().listWorkers()
  }

  /** Deletes finished jobs older than `olderThanMs`, or, without it, older than each queue's retention. */
  async cleanup(input: CleanupInput = {}, fence?: LeaderTerm): Promise<number> {
    const c = parse(cleanupInput, input, 'cleanup')
    return this.#open().cleanup({
      olderThanMs: c.olderThanMs ?? null,
      queue: c.queue ?? null,
      batchSize: c.batchSize ?? 1000,
      ...(fence ? { fence } : {}),
    })
  }

  // Schedules (docket/schedules.ts)

  /** Creates a schedule: cron (optional seconds, `timezone`) or `every` ms; its jobs are owned by its owner. */
  async createSchedule(input: ScheduleCreateInput): Promise<Schedule> {
    return schedules.createSchedule(this.#schedules(), input)
  }

  async updateSchedule(id: string, patch: ScheduleUpdateInput): Promise<Schedule> {
    return schedules.updateSchedule(this.#schedules(), id, patch)
  }

  async pauseSchedule(id: string): Promise<Schedule> {
    return schedules.updateSchedule(this.#schedules(), id, { enabled: false })
  }

  /** Resumes a paused schedule; ticks missed while it was paused are not caught up. */
  async resumeSchedule(id: string): Promise<Schedule> {
    return schedules.updateSchedule(this.#schedules(), id, { enabled: true })
  }

  async deleteSchedule(id: string): Promise<void> {
    return schedules.deleteSchedule(this.#schedules(), id)
  }

  /** Schedules by name; only `owner`'s when given (null: those nobody owns). */
  async listSchedules(filter: { owner?: string | null; name?: string } = {}): Promise<Schedule[]> {
    return schedules.listSchedules(this.#schedules(), filter)
  }

  /** A schedule with its next run times and its latest runs (newest first) and their outcomes. */
  async getSchedule(id: string, options: { next?: number; runs?: number } = {}): Promise<ScheduleDetail> {
    return schedules.scheduleDetail(this.#schedules(), id, options)
  }

  /** Runs a schedule once now (also while paused), as a manual run. */
  async runSchedule(id: string): Promise<ScheduleRun> {
    return schedules.runSchedule(this.#schedules(), id)
  }

  /** Runs every due schedule, each tick exactly once; `fence`: the maintenance leader's term. */
  async runDueSchedules(fence?: LeaderTerm): Promise<ScheduleRun[]> {
    return schedules.runDueSchedules(this.#schedules(), fence)
  }

  #schedules(): schedules.ScheduleContext {
    return { store: this.#open(), clock: this.#clock, maxPayloadBytes: this.#maxPayloadBytes }
  }

  #assertOpen(): void {
    if (this.#closed) throw new DocketError('CLOSED', 'this Docket has been closed')
  }
}

/** What add, addMany and addBatch take besides the jobs. */
export interface AddOptions {
  /**
   * PostgreSQL: your own connection (a node-postgres Client or PoolClient)
   * inside a transaction you opened with BEGIN. The jobs are written in it:
   * they exist if and only if your transaction commits, and workers hear of
   * them at commit. See docs/transactions.md.
   */
  client?: CallerTransaction
}

function addOptions(options: unknown): AddOptions {
  if (options === undefined || options === null) return {}
  const o = options as AddOptions
  if (typeof o !== 'object' || Object.keys(o).some((k) => k !== 'client')) {
    throw invalidArgument('add options take only client', [
      { path: 'options', message: 'expected { client }' },
    ])
  }
  if (o.client !== undefined && typeof (o.client as { query?: unknown })?.query !== 'function') {
    throw invalidArgument(
      'client must be a database connection with a query method (a pg Client or PoolClient)',
      [{ path: 'client', message: 'expected a pg Client or PoolClient' }],
    )
  }
  return o
}

/** The summary of a batch just added, from its jobs (before the caller's transaction commits). */
function newBatchSummary(record: BatchRecord, jobs: Job[]): BatchSummary {
  const own = jobs.filter((j) => j.batchId === record.id)
  const counts = emptyCounts()
  for (const j of own) counts[j.status]++
  return {
    ...record,
    thenJobId: record.thenJobId ?? null,
    createdAt: own[0]?.createdAt ?? new Date(),
    total: own.length,
    counts,
    progress: own.length === 0 ? 0 : own.reduce((sum, j) => sum + j.progress.percent, 0) / own.length,
  }
}
