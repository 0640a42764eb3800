/**
 * The front door for jobs: adding them (one, many, in a caller's transaction),
 * reading them back, and an operator's actions on one job. Batches
 * (docket/batches.ts) and jobs with files (docket/files.ts) add through `insert`.
 */
import { v7 as uuidv7 } from 'uuid'
import { decodeCursor, encodeCursor } from '../core/cursor.js'
import { invalidArgument, notFound } from '../core/errors.js'
import { COUNT_LIMIT, jobMatch, matchCount } from '../core/job-search.js'
import {
  eventsQuery,
  type JobInput,
  jobInput,
  type ListJobsInput,
  listJobsInput,
  type PriorityName,
  parse,
  priority as priorityInput,
  priorityValue,
} from '../core/options.js'
import { assertJsonValue, resolveJob } from '../core/resolve.js'
import type {
  Artifact,
  ArtifactRecord,
  BatchRecord,
  CallerTransaction,
  Job,
  JobDetail,
  JobEvent,
  UpstreamJob,
} from '../core/types.js'
import { type DocketEvent, type SubscribeOptions, type Subscription, subscribe } from '../events/feed.js'
import type { AddJobsResult, JobFilter } from '../storage/store.js'
import { traceAdd } from '../tracing/spans.js'
import { checkJobId, checkQueueName } from './arguments.js'
import { thenJob } from './batch-then.js'
import type { DocketContext } from './context.js'
import type { JobOptions, JobPage } from './types.js'

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

export function addOptions(options: unknown): AddOptions {
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

export class Jobs {
  readonly #ctx: DocketContext

  constructor(ctx: DocketContext) {
    this.#ctx = ctx
  }

  /** `add({ queue, type, payload, ...options }, addOptions)` or `add(queue, type, payload, options)`. */
  async add(
    inputOrQueue: unknown,
    typeOrOptions?: unknown,
    payload?: unknown,
    options: JobOptions = {},
  ): Promise<Job> {
    if (typeof inputOrQueue === 'string') {
      const input = { ...options, queue: inputOrQueue, type: typeOrOptions, payload }
      return (await this.insert([input as JobInput])).jobs[0]!
    }
    const add = addOptions(typeOrOptions)
    return (await this.insert([inputOrQueue as JobInput], null, [], add.client)).jobs[0]!
  }

  async addMany(inputs: JobInput[], options?: AddOptions): Promise<Job[]> {
    const { client } = addOptions(options)
    return (await this.insert(inputs, null, [], client)).jobs
  }

  /**
   * Validates and adds jobs in one transaction: of a batch, with the records of
   * their stored files, in the caller's transaction; `then`: one more job,
   * depending on every one of `inputs` with `completion` (a batch's `then`).
   */
  async insert(
    inputs: JobInput[],
    batch: BatchRecord | null = null,
    artifacts: ArtifactRecord[] = [],
    client?: CallerTransaction,
    then: { id: string; input: JobInput } | null = null,
  ): Promise<AddJobsResult> {
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
        this.#ctx.maxPayloadBytes,
      )
      return job
    })
    const queueNames = [...valid.map((j) => j.queue), ...(then ? [then.input.queue] : [])]
    // Traced (tracing/spans.ts): each job stores the add's trace context, for its run's span.
    return traceAdd(valid, (traceContext) =>
      this.#ctx.store().addJobs(
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

  // Reading jobs

  /** A job with its event history, its attempts, its dependencies and its artifacts. NOT_FOUND if there is none. */
  async getJob(id: string) {
    const store = this.#ctx.store()
    const job = await store.getJob(checkJobId(id))
    if (!job) throw notFound('job', id)
    const [events, dependencies, artifacts, attemptHistory] = await Promise.all([
      store.getJobEvents(job.id),
      store.getJobDependencies(job.id),
      store.listArtifacts(job.id),
      store.getJobAttempts(job.id),
    ])
    return { ...job, events, attemptHistory, dependencies, artifacts } satisfies JobDetail & {
      artifacts: Artifact[]
    }
  }

  /** A job as it is now, without its history; null if there is none (for access checks that must not throw). */
  async findJob(id: string): Promise<Job | null> {
    return this.#ctx.store().getJob(checkJobId(id))
  }

  /** The jobs `id` depends on (what a handler reads with `ctx.upstream()`). NOT_FOUND if there is no job `id`. */
  async upstream(id: string): Promise<UpstreamJob[]> {
    const jobId = checkJobId(id)
    const [upstream, job] = await Promise.all([
      this.#ctx.store().getUpstreamJobs(jobId),
      this.#ctx.store().getJob(jobId),
    ])
    if (!job) throw notFound('job', id)
    return upstream
  }

  async getJobEvents(id: string, options: { afterId?: number; limit?: number } = {}): Promise<JobEvent[]> {
    const o = parse(eventsQuery, options, 'events query')
    return this.#ctx.store().getJobEvents(checkJobId(id), o.afterId ?? 0, o.limit ?? 1000)
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
      fingerprint: f.fingerprint,
      statuses: f.status === undefined ? undefined : [f.status].flat(),
      ...jobMatch(f),
    }
    const [jobs, counted] = await Promise.all([
      this.#ctx.store().listJobs({ ...matching, sort, order, limit, after }),
      f.count ? this.#ctx.store().countMatchingJobs(matching, COUNT_LIMIT + 1) : undefined,
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
   * Calls `listener` for every event (optionally of one queue or job), in commit order, from any
   * process. A listener that returns a promise holds back the next event until it settles.
   */
  async subscribe(
    listener: (event: DocketEvent) => void | Promise<void>,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    if (options.queue !== undefined) checkQueueName(options.queue)
    if (options.jobId !== undefined) checkJobId(options.jobId)
    return subscribe(this.#ctx.store(), listener, options)
  }

  // Operator actions

  async cancelJob(id: string): Promise<Job> {
    return this.#ctx.store().cancelJob(checkJobId(id))
  }

  async retryJob(id: string): Promise<Job> {
    const job = await this.#ctx.store().retryJob(checkJobId(id))
    if (job.status === 'waiting') await this.#ctx.wake([job.queue])
    return job
  }

  async setPriority(id: string, priority: number | PriorityName): Promise<Job> {
    const value = parse(priorityInput, priority, 'priority')
    return this.#ctx.store().setPriority(checkJobId(id), priorityValue(value))
  }

  /** Promotes held (manual-mode) or scheduled jobs to waiting: by ids, or every held job of a queue. */
  async promote(target: string | string[] | { queue: string }): Promise<number> {
    if (typeof target === 'object' && !Array.isArray(target)) {
      const queue = checkQueueName(target.queue)
      const n = await this.#ctx.store().promoteJobs({ queue })
      if (n > 0) await this.#ctx.wake([queue])
      return n
    }
    const ids = [target].flat()
    if (ids.length === 0) return 0
    const n = await this.#ctx.store().promoteJobs({ ids: [...new Set(ids.map(checkJobId))] })
    if (n > 0) await this.#ctx.wake(['*'])
    return n
  }

  async removeJob(id: string): Promise<void> {
    await this.#ctx.store().removeJob(checkJobId(id))
  }
}
