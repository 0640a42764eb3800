/**
 * Acting on every job that matches a filter (or on a list of ids), as the
 * operator's "Retry all 65 failed in emails": the server walks the matches in
 * bounded chunks, applies the action to each job in its own transaction (each
 * change recorded as that job's state event, as a single action is), and
 * answers how many jobs matched and how many changed. A job that moved on
 * meanwhile (completed before the cancel reached it) is matched, not changed.
 */
import { z } from 'zod'
import { invalidArgument, isDocketError } from '../core/errors.js'
import { label, listJobsInput, parse } from '../core/options.js'
import { canTransition, type JobAction, sourcesOf } from '../core/states.js'
import type { Job, JobStatus } from '../core/types.js'
import type { Jobs } from './jobs.js'

/** The bulk actions, and the transition of the state machine each one is. */
export const BULK_ACTIONS = {
  retry: 'retry',
  cancel: 'cancel',
  promote: 'promote',
  delete: 'remove',
} as const satisfies Record<string, JobAction>
export type BulkAction = keyof typeof BULK_ACTIONS

/** Jobs read and acted on per round; also the most ids one call may name is BULK_MAX_IDS. */
export const BULK_CHUNK = 500
export const BULK_MAX_IDS = 10_000

/** What a bulk action's filter takes: the list's filters and search (no paging, sorting or counting). */
export const bulkFilter = listJobsInput.omit({
  cursor: true,
  limit: true,
  sort: true,
  order: true,
  count: true,
})
/** The ids of a bulk action: at most BULK_MAX_IDS. */
export const bulkIds = z.array(z.uuid()).min(1).max(BULK_MAX_IDS)

/** Exactly one of `filter` and `ids` (one object rather than a union, so that errors name the field). */
const oneTarget = <T extends { filter?: unknown; ids?: unknown }>(t: T) =>
  (t.filter === undefined) !== (t.ids === undefined)
const ONE_TARGET = { message: 'give either filter or ids, not both or neither', path: ['filter'] }

/**
 * A filter without a queue reaches every queue (an empty one, every job there
 * is): that takes `all: true`, said on purpose, so that a filter left empty by
 * mistake does nothing. `all` goes with a filter only.
 */
const saysWhere = (t: { filter?: { queue?: unknown }; ids?: unknown; all?: true }) =>
  t.filter === undefined ? t.all === undefined : t.filter.queue !== undefined || t.all === true
const SAYS_WHERE = {
  message:
    'a filter without a queue acts on every queue: name filter.queue, or add all: true to mean every queue (all goes with a filter only)',
  path: ['all'],
}
const all = z
  .literal(true)
  .optional()
  .describe('true: the filter may leave out its queue and act on every queue; required then')

export const bulkBody = z
  .strictObject({ filter: bulkFilter.optional(), ids: bulkIds.optional(), all })
  .refine(oneTarget, ONE_TARGET)
  .refine(saysWhere, SAYS_WHERE)

/** `owner`: only that owner's jobs (a user's key); another's are never matched, exactly as missing ones. */
export const bulkTarget = z
  .strictObject({ filter: bulkFilter.optional(), ids: bulkIds.optional(), all, owner: label.optional() })
  .refine(oneTarget, ONE_TARGET)
  .refine(saysWhere, SAYS_WHERE)
export type BulkTarget = z.input<typeof bulkTarget>
export type BulkFilter = z.infer<typeof bulkFilter>

export interface BulkOutcome {
  /** Jobs the target named that exist and were in a state the action applies to when read. */
  matched: number
  /** Jobs the action changed. */
  changed: number
}

/** The statuses a filter may match for `action`: those it names that the action applies to, else all of those. */
export function bulkStatuses(
  action: BulkAction,
  requested: JobStatus | JobStatus[] | undefined,
): JobStatus[] {
  const sources = sourcesOf(BULK_ACTIONS[action])
  if (requested === undefined) return [...sources]
  return [requested].flat().filter((s) => sources.includes(s))
}

/** Whether `job` is one the action applies to now. */
export const appliesTo = (action: BulkAction, job: Job): boolean =>
  canTransition(BULK_ACTIONS[action], job.status)

/**
 * Retries, cancels, promotes or deletes every job matching `{ filter }` (the
 * filters and search of listJobs, `owner` included; without a queue only
 * with `all: true`) or each of `{ ids }`
 * (only `owner`'s, when given: others count as missing), in chunks of
 * BULK_CHUNK, each job in its own transaction. Jobs in a state the action
 * does not apply to are not matched.
 */
export async function actOnJobs(jobs: Jobs, action: BulkAction, target: BulkTarget): Promise<BulkOutcome> {
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
      if (await act(jobs, action, job.id)) outcome.changed++
    } catch (error) {
      // It moved on between the read and the action (finished, taken, deleted): matched, not changed.
      if (!['INVALID_STATE', 'CONFLICT', 'NOT_FOUND'].some((c) => isDocketError(error, c as never)))
        throw error
    }
  }
  if (t.ids) {
    for (const id of new Set(t.ids.map((i) => i.toLowerCase()))) {
      const job = await jobs.findJob(id)
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
    const page = await jobs.listJobs({ ...filter, status, limit: BULK_CHUNK, order: 'asc', cursor })
    for (const job of page.jobs) await apply(job)
    cursor = page.nextCursor ?? undefined
  } while (cursor)
  return outcome
}

/** One job of a bulk action; whether it changed. */
async function act(jobs: Jobs, action: BulkAction, id: string): Promise<boolean> {
  if (action === 'retry') await jobs.retryJob(id)
  else if (action === 'cancel') await jobs.cancelJob(id)
  else if (action === 'delete') await jobs.removeJob(id)
  else return (await jobs.promote(id)) > 0
  return true
}
