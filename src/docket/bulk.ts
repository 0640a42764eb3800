/**
 * Acting on every job that matches a filter (or on a list of ids), as the
 * operator's "Retry all 65 failed in emails": the server walks the matches in
 * bounded chunks, applies the action to each job in its own transaction (each
 * change recorded as that job's state event, as a single action is), and
 * answers how many jobs matched and how many changed. A job that moved on
 * meanwhile (completed before the cancel reached it) is matched, not changed.
 */
import { z } from 'zod'
import { label, listJobsInput } from '../core/options.js'
import { canTransition, type JobAction, sourcesOf } from '../core/states.js'
import type { Job, JobStatus } from '../core/types.js'

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

export const bulkBody = z
  .strictObject({ filter: bulkFilter.optional(), ids: bulkIds.optional() })
  .refine(oneTarget, ONE_TARGET)

/** `owner`: only that owner's jobs (a user's key); another's are never matched, exactly as missing ones. */
export const bulkTarget = z
  .strictObject({ filter: bulkFilter.optional(), ids: bulkIds.optional(), owner: label.optional() })
  .refine(oneTarget, ONE_TARGET)
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
