/** The front door for queues: their settings, and what a queue's jobs add up to (counts, health, statistics). */

import { notFound } from '../core/errors.js'
import {
  deleteQueueOptions,
  parse,
  type QueueCreateInput,
  type QueueUpdateInput,
  queueCreateInput,
  queueUpdateInput,
} from '../core/options.js'
import { type RateLimitUse, rateLimitUse } from '../core/rate-limits.js'
import { applyQueueUpdate, resolveQueue } from '../core/resolve.js'
import { type QueueHealth, queueHealth, windowStats } from '../core/stats.js'
import { emptyCounts, JOB_STATUSES, type Queue, type StatusCounts } from '../core/types.js'
import { checkQueueName } from './arguments.js'
import type { DocketContext } from './context.js'
import type { DocketStats } from './types.js'

export class Queues {
  readonly #ctx: DocketContext

  constructor(ctx: DocketContext) {
    this.#ctx = ctx
  }

  async createQueue(input: QueueCreateInput): Promise<Queue> {
    return this.#ctx.store().createQueue(resolveQueue(parse(queueCreateInput, input, 'queue')))
  }

  async updateQueue(name: string, patch: QueueUpdateInput): Promise<Queue> {
    const valid = parse(queueUpdateInput, patch, 'queue update')
    return this.#ctx.store().updateQueue(checkQueueName(name), (current) => applyQueueUpdate(current, valid))
  }

  async getQueue(name: string): Promise<Queue> {
    const queue = await this.#ctx.store().getQueue(checkQueueName(name))
    if (!queue) throw notFound('queue', name)
    return queue
  }

  async listQueues(): Promise<Queue[]> {
    return this.#ctx.store().listQueues()
  }

  async deleteQueue(name: string, options: { force?: boolean } = {}): Promise<void> {
    const o = parse(deleteQueueOptions, options, 'delete options')
    await this.#ctx.store().deleteQueue(checkQueueName(name), o.force === true)
  }

  async resumeQueue(name: string): Promise<Queue> {
    const queue = await this.updateQueue(name, { status: 'active' })
    await this.#ctx.wake([queue.name])
    return queue
  }

  /** The queue's rate limit as it stands (starts in the window, when the next slot opens); null without one. */
  async rateLimitUse(queue: string): Promise<RateLimitUse | null> {
    const q = await this.getQueue(queue)
    if (!q.rateLimit) return null
    const counted = await this.#ctx.store().rateLimitUse(q.name)
    return counted && rateLimitUse(q.rateLimit, counted, this.#ctx.clock.now())
  }

  /**
   * A queue's health now (core/stats.ts): latency (age of the oldest ready
   * job), 1- and 5-minute rates, the backlog trend, whether it is paused with
   * jobs ready, and the top errors; only `owner`'s jobs when given.
   */
  async queueHealth(queue: string, filter: { owner?: string } = {}): Promise<QueueHealth> {
    const q = await this.getQueue(queue)
    const now = this.#ctx.clock.now().getTime()
    const row = await this.#ctx.store().queueHealth(q.name, filter.owner ?? null, now)
    return queueHealth(row, now, q.status === 'paused')
  }

  /** Counts of jobs by status, per queue (every queue, or the one named); only `owner`'s jobs when given. */
  async countJobs(queue?: string, filter: { owner?: string } = {}): Promise<Record<string, StatusCounts>> {
    if (queue !== undefined) await this.getQueue(queue)
    return Object.fromEntries(await this.#ctx.store().countJobs(queue ?? null, filter.owner ?? null))
  }

  /** Counts by state, and for the last hour and day: throughput, failure rate, wait and run time percentiles, series. */
  async stats(queue?: string): Promise<DocketStats> {
    if (queue !== undefined) await this.getQueue(queue)
    const now = this.#ctx.clock.now().getTime()
    const day = 24 * 3600_000
    const [counts, rows] = await Promise.all([
      this.countJobs(queue),
      this.#ctx.store().finishedJobs(queue ?? null, now - day, 50_000),
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
}
