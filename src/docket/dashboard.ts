/**
 * The dashboard's own reads: what a job filter may suggest, and a queue's
 * busiest groups. The server reaches them (server/internals.ts); they are not
 * part of the library's front door.
 */
import { SUGGESTION_SAMPLE } from '../core/job-search.js'
import { parse, suggestionsInput } from '../core/options.js'
import type { GroupCount } from '../core/types.js'
import type { DocketContext } from './context.js'
import type { Queues } from './queues.js'

export class DashboardReads {
  readonly #ctx: DocketContext
  readonly #queues: Queues

  constructor(ctx: DocketContext, queues: Queues) {
    this.#ctx = ctx
    this.#queues = queues
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
      this.#ctx.store().recentQueueTypes(owner, SUGGESTION_SAMPLE),
      owner === null ? this.#ctx.store().listQueues() : [],
    ])
    const sorted = (names: Iterable<string>) => [...new Set(names)].sort()
    return {
      queues: sorted([...queues.map((q) => q.name), ...pairs.map((p) => p.queue)]),
      types: sorted(pairs.map((p) => p.type)),
    }
  }

  /** The queue's busiest groups with their active and waiting jobs (at most `limit`, 1-100, default 20); only `owner`'s jobs when given. */
  async groupCounts(queue: string, filter: { owner?: string; limit?: number } = {}): Promise<GroupCount[]> {
    const q = await this.#queues.getQueue(queue)
    const wanted = Math.trunc(filter.limit ?? 20)
    const limit = Number.isFinite(wanted) ? Math.min(Math.max(1, wanted), 100) : 20
    return this.#ctx.store().groupCounts(q.name, filter.owner ?? null, limit)
  }
}
