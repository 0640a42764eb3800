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
import { assertLeaseHeld, DocketError, invalidArgument, isDocketError, notFound } from './core/errors.js'
import { COUNT_LIMIT, jobMatch, matchCount, SUGGESTION_SAMPLE } from './core/job-search.js'
import {
  batchOptions,
  type ClaimInput,
  type CleanupInput,
  claimInput,
  cleanupInput,
  deleteQueueOptions,
  docketOptions,
  eventsQuery,
  failOptions,
  type JobInput,
  jobInput,
  type ListJobsInput,
  listJobsInput,
  type PriorityName,
  type ProgressInput,
  parse,
  priority as priorityInput,
  priorityValue,
  progressInput,
  type QueueCreateInput,
  type QueueUpdateInput,
  queueCreateInput,
  queueUpdateInput,
  stepDetails,
  suggestionsInput,
} from './core/options.js'
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
import { windowStats } from './core/stats.js'
import {
  type ClaimedJob,
  emptyCounts,
  JOB_STATUSES,
  type Job,
  type JobDetail,
  type JobEvent,
  type JobStatus,
  LIVE_STATUSES,
  type Queue,
  type StatusCounts,
} from './core/types.js'
import { checkId, checkJobId, checkQueueName, leaseRef, normaliseError } from './docket/arguments.js'
import * as schedules from './docket/schedules.js'
import {
  DEFAULT_LEASE_MS,
  type DocketOptions,
  type DocketStats,
  type FailureInput,
  type FileInput,
  type JobOptions,
  type JobPage,
  type Leased,
  UnrecoverableError,
} from './docket/types.js'
import { type DocketEvent, type SubscribeOptions, type Subscription, subscribe } from './events/feed.js'
import { openStore, parseDatabaseUrl } from './storage/open.js'
import type {
  Artifact,
  ArtifactRecord,
  BatchRecord,
  BatchSummary,
  JobFilter,
  LeaderTerm,
  LeaseOutcome,
  LeaseRef,
  Store,
} from './storage/store.js'

export type {
  DocketOptions,
  DocketStats,
  FailureInput,
  FileInput,
  JobOptions,
  JobPage,
  Leased,
} from './docket/types.js'
export { DEFAULT_LEASE_MS, UnrecoverableError } from './docket/types.js'

export class Docket {
  readonly #store: Store
  readonly #maxPayloadBytes: number
  readonly #defaultLeaseMs: number
  readonly #maxArtifactBytes: number
  readonly #clock: Clock
  /** Where artifact bytes are kept (artifacts/open.ts). */
  readonly artifacts: ArtifactRouter
  #closed = false

  private constructor(store: Store, options: DocketOptions, artifacts: ArtifactRouter) {
    this.#store = store
    this.artifacts = artifacts
    this.#maxArtifactBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
    this.#defaultLeaseMs = options.defaultLeaseMs ?? DEFAULT_LEASE_MS
    this.#clock = options.clock ?? systemClock
  }

  /** Opens (and migrates) a database: nothing or a path for SQLite, `postgres://…` for PostgreSQL. */
  static async open(url?: string, options: DocketOptions = {}): Promise<Docket> {
    const valid = parse(docketOptions, options, 'Docket options')
    if (url !== undefined && typeof url !== 'string') {
      throw invalidArgument('the database URL must be a string', [
        { path: 'url', message: 'expected a string' },
      ])
    }
    const store = await openStore(url, { directUrl: valid.directUrl, clock: valid.clock })
    try {
      return new Docket(store, valid, await openArtifactStorage(valid, parseDatabaseUrl(url), store))
    } catch (error) {
      await store.close()
      throw error
    }
  }

  get driver(): 'sqlite' | 'postgres' {
    return this.#store.driver
  }

  /** The underlying store, for the worker runtime and the server. */
  get store(): Store {
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
    await this.store.ping()
  }

  // Queues

  async createQueue(input: QueueCreateInput): Promise<Queue> {
    return this.store.createQueue(resolveQueue(parse(queueCreateInput, input, 'queue')))
  }

  async updateQueue(name: string, patch: QueueUpdateInput): Promise<Queue> {
    const valid = parse(queueUpdateInput, patch, 'queue update')
    return this.store.updateQueue(checkQueueName(name), (current) => applyQueueUpdate(current, valid))
  }

  async getQueue(name: string): Promise<Queue> {
    const queue = await this.store.getQueue(checkQueueName(name))
    if (!queue) throw notFound('queue', name)
    return queue
  }

  async listQueues(): Promise<Queue[]> {
    return this.store.listQueues()
  }

  async deleteQueue(name: string, options: { force?: boolean } = {}): Promise<void> {
    const o = parse(deleteQueueOptions, options, 'delete options')
    await this.store.deleteQueue(checkQueueName(name), o.force === true)
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
  async add(input: JobInput): Promise<Job>
  async add(queue: string, type: string, payload?: unknown, options?: JobOptions): Promise<Job>
  async add(
    inputOrQueue: JobInput | string,
    type?: string,
    payload?: unknown,
    options: JobOptions = {},
  ): Promise<Job> {
    const input =
      typeof inputOrQueue === 'string' ? { ...options, queue: inputOrQueue, type, payload } : inputOrQueue
    const [job] = await this.addMany([input as JobInput])
    return job!
  }

  /**
   * Adds jobs in one transaction: all or none. Jobs may depend on jobs added
   * in the same call (give them ids). A job whose dedupe key matches a live
   * job of its queue returns that job instead of a new one.
   */
  async addMany(inputs: JobInput[]): Promise<Job[]> {
    return (await this.addManyWithOutcome(inputs)).jobs
  }

  async addManyWithOutcome(
    inputs: JobInput[],
    batch: BatchRecord | null = null,
    artifacts: ArtifactRecord[] = [],
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
    const result = await this.store.addJobs(
      valid.map((j) => j.queue),
      (queues) => valid.map((j) => resolveJob(j, queues.get(j.queue)!, uuidv7(), batchId)),
      { batch: batch ?? undefined, artifacts },
    )
    return result
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
    inputs: JobInput[],
    options: { name?: string; owner?: string } = {},
  ): Promise<{ batch: BatchSummary; jobs: Job[] }> {
    const o = parse(batchOptions, options, 'batch options')
    if (!Array.isArray(inputs) || inputs.length === 0) {
      throw invalidArgument('a batch needs at least one job', [
        { path: 'jobs', message: 'expected a non-empty array' },
      ])
    }
    const record: BatchRecord = { id: uuidv7(), name: o.name ?? null, owner: o.owner ?? null }
    const withOwner = o.owner === undefined ? inputs : inputs.map((j) => ({ owner: o.owner, ...j }))
    const { jobs } = await this.addManyWithOutcome(withOwner, record)
    return { batch: await this.getBatch(record.id), jobs }
  }

  /** A batch with its counts by status and overall progress. */
  async getBatch(id: string): Promise<BatchSummary> {
    const batch = await this.store.getBatch(checkId(id, 'batch'))
    if (!batch) throw notFound('batch', id)
    return batch
  }

  /** Cancels every job of the batch that has not finished. Returns how many were cancelled. */
  async cancelBatch(id: string): Promise<number> {
    await this.getBatch(id)
    return this.#forEachInBatch(id, [...LIVE_STATUSES], (jobId) => this.store.cancelJob(jobId))
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
      this.store.finishedJobs(queue ?? null, now - day, 50_000),
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
    return subscribe(this.store, listener, options)
  }

  // Reading jobs

  /** A job with its event history, its dependencies and its artifacts. NOT_FOUND if there is none. */
  async getJob(id: string): Promise<JobDetail & { artifacts: Artifact[] }> {
    const job = await this.store.getJob(checkJobId(id))
    if (!job) throw notFound('job', id)
    const [events, dependencies, artifacts] = await Promise.all([
      this.store.getJobEvents(job.id),
      this.store.getJobDependencies(job.id),
      this.store.listArtifacts(job.id),
    ])
    return { ...job, events, dependencies, artifacts }
  }

  // Artifacts

  /**
   * Adds a job with input files: the files are stored first, one after
   * another as `files` yields them (each stream read to its end before the
   * next is asked for), then the job and their records in one transaction.
   * A failure at any point removes every file stored for it: no job, no file.
   */
  async addWithFiles(
    input: JobInput,
    files: Iterable<FileInput> | AsyncIterable<FileInput>,
  ): Promise<{ job: Job; artifacts: Artifact[] }> {
    const job = parse(jobInput, input, 'job')
    // Checked before any file is read, so a bad payload does not cost an upload.
    assertJsonValue(job.payload === undefined ? null : job.payload, 'payload', this.#maxPayloadBytes)
    const id = (job.id as string | undefined) ?? uuidv7()
    const stored: ArtifactRecord[] = []
    try {
      for await (const file of files)
        stored.push(await storeFile(this.artifacts, id, 'input', file, this.#maxArtifactBytes))
      const { jobs, deduplicated } = await this.addManyWithOutcome([{ ...input, id }], null, stored)
      // The dedupe key matched a live job: that job is the answer, and these files belong to nobody.
      if (deduplicated[0]) await this.#removeFiles(stored)
      return { job: jobs[0]!, artifacts: await this.store.listArtifacts(jobs[0]!.id) }
    } catch (error) {
      await this.#removeFiles(stored)
      throw error
    }
  }

  /** Stores an output file of a leased job. LEASE_LOST if the lease is gone. */
  async saveOutput(job: Leased, file: FileInput): Promise<Artifact> {
    return (await this.saveOutputs(job, [file]))[0]!
  }

  /**
   * Stores output files of a leased job, as `files` yields them; their
   * records are written once every file is stored, so a failure midway
   * leaves none of them. LEASE_LOST if the lease is gone, before and after.
   */
  async saveOutputs(job: Leased, files: Iterable<FileInput> | AsyncIterable<FileInput>): Promise<Artifact[]> {
    const ref = leaseRef(job)
    await this.#assertLeaseHeld(ref)
    const stored: ArtifactRecord[] = []
    const saved: Artifact[] = []
    try {
      for await (const file of files)
        stored.push(await storeFile(this.artifacts, ref.id, 'output', file, this.#maxArtifactBytes))
      await this.#assertLeaseHeld(ref)
      for (const record of stored) saved.push(await this.store.addArtifact(record))
      return saved
    } catch (error) {
      const recorded = new Set(saved.map((a) => a.storageKey))
      await this.#removeFiles(stored.filter((r) => !recorded.has(r.storageKey)))
      throw error
    }
  }

  async #assertLeaseHeld(ref: LeaseRef): Promise<void> {
    assertLeaseHeld((await this.store.checkLeases([ref]))[0]!)
  }

  async #removeFiles(records: ArtifactRecord[]): Promise<void> {
    await Promise.all(records.map((r) => this.artifacts.remove(r.storageKey).catch(() => {})))
  }

  async listArtifacts(jobId: string): Promise<Artifact[]> {
    return this.store.listArtifacts(checkJobId(jobId))
  }

  /** An artifact's record and a stream of its bytes. */
  /** An artifact's record, without opening its file. NOT_FOUND if there is none. */
  async getArtifact(id: string): Promise<Artifact> {
    const artifact = await this.store.getArtifact(checkId(id, 'artifact'))
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
    return this.store.getJobEvents(checkJobId(id), o.afterId ?? 0, o.limit ?? 1000)
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
      this.store.listJobs({ ...matching, sort, order, limit, after }),
      f.count ? this.store.countMatchingJobs(matching, COUNT_LIMIT + 1) : undefined,
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
      this.store.recentQueueTypes(owner, SUGGESTION_SAMPLE),
      owner === null ? this.store.listQueues() : [],
    ])
    const sorted = (names: Iterable<string>) => [...new Set(names)].sort()
    return {
      queues: sorted([...queues.map((q) => q.name), ...pairs.map((p) => p.queue)]),
      types: sorted(pairs.map((p) => p.type)),
    }
  }

  /** The queue's busiest groups with their active and waiting jobs; only `owner`'s jobs when given. */
  async groupCounts(queue: string, filter: { owner?: string; limit?: number } = {}) {
    const q = await this.getQueue(queue)
    const limit = Math.min(Math.max(1, Math.trunc(filter.limit ?? 20)), 100)
    return this.store.groupCounts(q.name, filter.owner ?? null, Number.isFinite(limit) ? limit : 20)
  }

  /** Counts of jobs by status, per queue (every queue, or the one named); only `owner`'s jobs when given. */
  async countJobs(queue?: string, filter: { owner?: string } = {}): Promise<Record<string, StatusCounts>> {
    if (queue !== undefined) await this.getQueue(queue)
    return Object.fromEntries(await this.store.countJobs(queue ?? null, filter.owner ?? null))
  }

  // The worker protocol

  /** Leases up to `limit` ready jobs to a worker, in each queue's order, within each queue's concurrency limit. */
  async claim(input: ClaimInput): Promise<ClaimedJob[]> {
    const c = parse(claimInput, input, 'claim')
    return this.store.claimJobs({
      workerId: c.workerId,
      queues: [...new Set(c.queues)],
      capabilities: c.capabilities ?? [],
      limit: c.limit ?? 1,
      leaseMs: c.leaseMs ?? this.#defaultLeaseMs,
    })
  }

  /** For a worker that could start nothing: ms until a rate-limited queue of these opens a slot; null when none is held back. */
  async rateLimitWaitMs(queues: string[]): Promise<number | null> {
    return this.store.rateLimitWaitMs([...new Set(queues.map(checkQueueName))])
  }

  /** Extends leases; each outcome says whether the lease is still held. */
  async heartbeat(jobs: Leased | Leased[], leaseMs = this.#defaultLeaseMs): Promise<LeaseOutcome[]> {
    const refs = [jobs].flat().map(leaseRef)
    if (!Number.isInteger(leaseMs) || leaseMs < 50) {
      throw invalidArgument('leaseMs must be an integer of at least 50', [
        { path: 'leaseMs', message: 'expected >= 50' },
      ])
    }
    return this.store.extendLeases(refs, leaseMs)
  }

  async progress(job: Leased, input: ProgressInput): Promise<void> {
    await this.store.reportProgress({ ...leaseRef(job), ...parse(progressInput, input, 'progress') })
  }

  async log(job: Leased, message: string, data?: unknown): Promise<void> {
    if (typeof message !== 'string')
      throw invalidArgument('message must be a string', [{ path: 'message', message: 'expected a string' }])
    if (data !== undefined) assertJsonValue(data, 'data', this.#maxPayloadBytes)
    await this.store.appendEvent({ ...leaseRef(job), kind: 'log', message, data: data ?? null })
  }

  /** Records a step boundary: `started`, `completed` (with its duration) or `failed`. */
  async step(
    job: Leased,
    step: string,
    phase: 'started' | 'completed' | 'failed',
    details: { durationMs?: number; message?: string } = {},
  ) {
    if (typeof step !== 'string' || step.length === 0 || step.length > 200) {
      throw invalidArgument('step must be a name of 1-200 characters', [
        { path: 'step', message: 'expected 1-200 characters' },
      ])
    }
    if (!['started', 'completed', 'failed'].includes(phase)) {
      throw invalidArgument('phase must be started, completed or failed', [
        { path: 'phase', message: 'expected started | completed | failed' },
      ])
    }
    details = parse(stepDetails, details, 'step details')
    await this.store.appendEvent({
      ...leaseRef(job),
      kind: `step.${phase}`,
      step,
      message: details.message ?? null,
      data: details.durationMs === undefined ? null : { durationMs: details.durationMs },
    })
  }

  /** Completes a leased job with a JSON result. LEASE_LOST if the lease is no longer held. */
  async complete(job: Leased, result?: unknown): Promise<void> {
    const [outcome] = await this.completeMany([{ job, result }])
    assertLeaseHeld(outcome!)
  }

  /**
   * Refuses (INVALID_ARGUMENT) a result that complete() would refuse: not
   * JSON, or over the payload limit. The worker checks each result with it
   * before handing it to the completer, so one bad result fails its own job
   * instead of a whole batch of completions.
   */
  assertResult(result: unknown, path = 'result'): void {
    assertJsonValue(result === undefined ? null : result, path, this.#maxPayloadBytes)
  }

  /** Completes many leased jobs in one transaction; each outcome says whether its lease still held. */
  async completeMany(items: { job: Leased; result?: unknown }[]): Promise<LeaseOutcome[]> {
    const params = items.map((item, i) => ({
      ...leaseRef(item.job),
      result: item.result === undefined ? null : item.result,
      _check: this.assertResult(item.result, items.length > 1 ? `results.${i}` : 'result'),
    }))
    return this.store.completeJobs(params.map(({ _check, ...p }) => p))
  }

  /**
   * Fails the current attempt. The job is retried after its backoff while it
   * has attempts left, unless `retryable` is false or the error is an
   * UnrecoverableError. Returns the job as it is after the failure.
   */
  async fail(
    job: Leased,
    error: Error | FailureInput | string,
    options: { retryable?: boolean } = {},
  ): Promise<Job> {
    const o = parse(failOptions, options, 'fail options')
    const e = normaliseError(error)
    const retryable = o.retryable ?? !(error instanceof UnrecoverableError)
    return this.store.failJob({ ...leaseRef(job), error: { ...e, retryable } })
  }

  /** Whether each lease is still held, and if not why (see core/leases.ts). Changes nothing. */
  async checkLeases(jobs: Leased | Leased[]): Promise<LeaseOutcome[]> {
    return this.store.checkLeases([jobs].flat().map(leaseRef))
  }

  /** Hands leased jobs back without counting the attempt (the job keeps its place in its queue). */
  async release(jobs: Leased | Leased[]): Promise<LeaseOutcome[]> {
    const outcomes = await this.store.releaseJobs([jobs].flat().map(leaseRef))
    if (outcomes.some((o) => o.ok)) await this.#wake(['*'])
    return outcomes
  }

  // Operator actions

  async cancelJob(id: string): Promise<Job> {
    return this.store.cancelJob(checkJobId(id))
  }

  async retryJob(id: string): Promise<Job> {
    const job = await this.store.retryJob(checkJobId(id))
    if (job.status === 'waiting') await this.#wake([job.queue])
    return job
  }

  async setPriority(id: string, priority: number | PriorityName): Promise<Job> {
    const value = parse(priorityInput, priority, 'priority')
    return this.store.setPriority(checkJobId(id), priorityValue(value))
  }

  /** Promotes held (manual-mode) or scheduled jobs to waiting: by ids, or every held job of a queue. */
  async promote(target: string | string[] | { queue: string }): Promise<number> {
    if (typeof target === 'object' && !Array.isArray(target)) {
      const queue = checkQueueName(target.queue)
      const n = await this.store.promoteJobs({ queue })
      if (n > 0) await this.#wake([queue])
      return n
    }
    const ids = [target].flat()
    if (ids.length === 0) return 0
    const n = await this.store.promoteJobs({ ids: [...new Set(ids.map(checkJobId))] })
    if (n > 0) await this.#wake(['*'])
    return n
  }

  async removeJob(id: string): Promise<void> {
    await this.store.removeJob(checkJobId(id))
  }

  // Maintenance

  /** `fence`: the maintenance leader's term; the pass is refused (LEADERSHIP_LOST) once it is over. */
  async recoverExpiredLeases(fence?: LeaderTerm): Promise<number> {
    const n = await this.store.recoverExpiredLeases(fence)
    if (n > 0) await this.#wake(['*'])
    return n
  }

  /** Registered workers with their kind, capabilities, load and last heartbeat. */
  async listWorkers() {
    return this.store.listWorkers()
  }

  /** Deletes finished jobs older than `olderThanMs`, or, without it, older than each queue's retention. */
  async cleanup(input: CleanupInput = {}, fence?: LeaderTerm): Promise<number> {
    const c = parse(cleanupInput, input, 'cleanup')
    return this.store.cleanup({
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
    return { store: this.store, clock: this.#clock, maxPayloadBytes: this.#maxPayloadBytes }
  }

  #assertOpen(): void {
    if (this.#closed) throw new DocketError('CLOSED', 'this Docket has been closed')
  }
}
