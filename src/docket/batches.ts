/** The front door for batches: jobs added as one, with a `then` job, counted, cancelled and retried together. */
import { v7 as uuidv7 } from 'uuid'
import { invalidArgument, isDocketError, notFound } from '../core/errors.js'
import { type BatchThenInput, batchOptions, type JobInput, listBatchesInput, parse } from '../core/options.js'
import { assertJsonValue } from '../core/resolve.js'
import {
  type BatchRecord,
  type BatchSummary,
  emptyCounts,
  type Job,
  type JobStatus,
  LIVE_STATUSES,
} from '../core/types.js'
import { checkId } from './arguments.js'
import type { DocketContext } from './context.js'
import { type AddOptions, addOptions, type Jobs } from './jobs.js'

export type BatchOptions = { name?: string; owner?: string; then?: BatchThenInput } & AddOptions

/** A batch just added: its summary, its jobs, and its `then` job when it has one. */
export interface BatchAdded<J extends Job = Job> {
  batch: BatchSummary
  jobs: J[]
  thenJob?: Job
}

export class Batches {
  readonly #ctx: DocketContext
  readonly #jobs: Jobs

  constructor(ctx: DocketContext, jobs: Jobs) {
    this.#ctx = ctx
    this.#jobs = jobs
  }

  /** Adds jobs as one batch, in one transaction. The batch's owner is the owner of every job that does not name one. */
  async addBatch(inputs: JobInput[], options: BatchOptions = {}): Promise<BatchAdded> {
    const { client, ...batchFields } = (options ?? {}) as AddOptions & Record<string, unknown>
    const o = parse(batchOptions, batchFields, 'batch options')
    addOptions({ client })
    if (!Array.isArray(inputs) || inputs.length === 0) {
      throw invalidArgument('a batch needs at least one job', [
        { path: 'jobs', message: 'expected a non-empty array' },
      ])
    }
    if (o.then) assertJsonValue(o.then.payload ?? null, 'then.payload', this.#ctx.maxPayloadBytes)
    const then = o.then ? { id: uuidv7(), input: { ...o.then, owner: o.owner ?? null } } : null
    const record: BatchRecord = {
      id: uuidv7(),
      name: o.name ?? null,
      owner: o.owner ?? null,
      thenJobId: then?.id ?? null,
    }
    const withOwner = o.owner === undefined ? inputs : inputs.map((j) => ({ owner: o.owner, ...j }))
    const added = (await this.#jobs.insert(withOwner, record, [], client, then)).jobs
    const jobs = then ? added.slice(0, -1) : added
    // In the caller's transaction the batch is not committed yet: others cannot read it, so it is summed up here.
    const batch = client ? this.#newBatchSummary(record, jobs) : await this.getBatch(record.id)
    return then ? { batch, jobs, thenJob: added[added.length - 1]! } : { batch, jobs }
  }

  /** A batch with its counts by status and overall progress. */
  async getBatch(id: string): Promise<BatchSummary> {
    const batch = await this.#ctx.store().getBatch(checkId(id, 'batch'))
    if (!batch) throw notFound('batch', id)
    return batch
  }

  /** Batches newest first, `owner`'s only when given; pass the last id as `before` for the next page. */
  async listBatches(
    filter: { owner?: string; before?: string; limit?: number } = {},
  ): Promise<BatchSummary[]> {
    const f = parse(listBatchesInput, filter, 'batch filter')
    return this.#ctx.store().listBatches({
      owner: f.owner ?? null,
      before: f.before ?? null,
      limit: f.limit ?? 50,
    })
  }

  /** Cancels every job of the batch that has not finished. Returns how many were cancelled. */
  async cancelBatch(id: string): Promise<number> {
    await this.getBatch(id)
    return this.#forEachInBatch(id, [...LIVE_STATUSES], (jobId) => this.#ctx.store().cancelJob(jobId))
  }

  /** Retries every failed job of the batch. Returns how many were retried. */
  async retryBatch(id: string): Promise<number> {
    await this.getBatch(id)
    return this.#forEachInBatch(id, ['failed'], (jobId) => this.#jobs.retryJob(jobId))
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
      const page = await this.#jobs.listJobs({ batchId, status: statuses, limit: 500, cursor, order: 'asc' })
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

  /** The summary of a batch just added, from its jobs (before the caller's transaction commits). */
  #newBatchSummary(record: BatchRecord, jobs: Job[]): BatchSummary {
    const own = jobs.filter((j) => j.batchId === record.id)
    const counts = emptyCounts()
    for (const j of own) counts[j.status]++
    return {
      ...record,
      thenJobId: record.thenJobId ?? null,
      createdAt: own[0]?.createdAt ?? this.#ctx.clock.now(),
      total: own.length,
      counts,
      progress: own.length === 0 ? 0 : own.reduce((sum, j) => sum + j.progress.percent, 0) / own.length,
    }
  }
}
