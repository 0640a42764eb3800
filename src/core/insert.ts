/**
 * The insert plan: everything adding a list of jobs decides, worked out
 * before a row is written. Each driver reads what the plan needs (the live
 * jobs holding the dedupe keys, the stored jobs depended on) inside its
 * transaction, calls `planInsert`, and writes what it says.
 *
 * The rules, in the order they apply to each job:
 * - a job whose dedupe key a live job of the same queue and owner already
 *   holds (stored, or earlier in the same call) is not inserted: that job is
 *   returned in its place, and later jobs of the call that depend on it
 *   depend on that job instead;
 * - a dependency must exist and have the same owner (someone else's job is
 *   answered as one that does not exist), and must not have failed or been
 *   cancelled (it would never complete);
 * - the dependencies not yet completed are counted, and the count with the
 *   queue's mode and the run-at time gives the initial status.
 */

import { type DedupeMode, debouncedRunAt, decideDedupe, type Replacement } from './dedupe.js'
import {
  assertAcyclic,
  type DependencyType,
  dependencyState,
  finishedDependency,
  missingDependency,
  sameOwner,
} from './dependencies.js'
import { conflict, type DocketError } from './errors.js'
import { resolveExpiry } from './expiry.js'
import type { NewJob, QueueRecord } from './resolve.js'
import { initialStatus } from './states.js'
import type { Job, JobStatus } from './types.js'

/** What the plan needs to know of a stored job that a new job depends on. */
export interface StoredUpstream {
  status: JobStatus
  owner: string | null
}

export interface InsertInputs {
  jobs: readonly NewJob[]
  queues: ReadonlyMap<string, QueueRecord>
  /** The time of the transaction, in epoch milliseconds. */
  now: number
  /** Live stored jobs holding a dedupe key that one of `jobs` uses, by `dedupeSlot`. */
  duplicates: ReadonlyMap<string, Job>
  /** The stored jobs among `insertLookups(jobs).upstream` that exist, by id. */
  upstream: ReadonlyMap<string, StoredUpstream>
  /**
   * For keyed jobs with a `dedupeTtlMs`: the newest finished job holding the
   * key that finished within it, by `dedupeSlot` (see `insertLookups().recent`).
   */
  recent?: ReadonlyMap<string, Job>
}

export interface PlannedJob {
  job: NewJob
  status: JobStatus
  runAtMs: number
  /** When the job expires unless started, epoch ms; null never. */
  expiresAtMs: number | null
  /** Dependencies not yet completed. */
  pending: number
  /** The job's dependencies, with deduplicated jobs of the call replaced by the jobs they matched. */
  dependsOn: string[]
}

/**
 * Per input, in order: inserted under `id`; or deduplicated, onto a job of
 * the same call (`id`) or a live stored job (`stored`).
 */
export type PlannedSlot =
  | { deduplicated: boolean; id: string }
  | { deduplicated: true; stored: Job; replaced?: DedupeMode }

export interface InsertPlan {
  inserts: PlannedJob[]
  slots: PlannedSlot[]
  /** Dependency edges to record once every job is in, as [job, depends on, what it waits for]. */
  edges: (readonly [string, string, DependencyType])[]
  /** Live jobs that have not started, to update in place (dedupeMode replace or debounce). */
  replacements: Replacement[]
  /** Running jobs that give their dedupe key to a new job queued after them: clear it before inserting. */
  keysReleased: string[]
}

/** Where a dedupe key lives: per queue and per owner (jobs without an owner share one place). */
export const dedupeSlot = (queue: string, owner: string | null, key: string): string =>
  `${queue}\u0000${owner ?? ''}\u0000${key}`

/** What a driver must read before planning: the jobs whose dedupe keys to look up, and the stored ids depended on. */
export function insertLookups(jobs: readonly NewJob[]): {
  keyed: NewJob[]
  recent: NewJob[]
  upstream: string[]
} {
  const own = new Set(jobs.map((j) => j.id))
  return {
    keyed: jobs.filter((j) => j.dedupeKey !== null),
    recent: jobs.filter((j) => j.dedupeKey !== null && j.dedupeTtlMs !== null),
    upstream: [...new Set(jobs.flatMap((j) => j.dependsOn).filter((id) => !own.has(id)))],
  }
}

export const jobIdTaken = (id: string): DocketError =>
  conflict(`a job with id '${id}' already exists`, { id })

export function planInsert(inputs: InsertInputs): InsertPlan {
  const { jobs, queues, now, duplicates, upstream } = inputs
  assertAcyclic(jobs)
  const { slots, replacements, after } = dedupe(jobs, duplicates, inputs.recent ?? new Map(), now)
  // A dependency on a deduplicated job of this call is a dependency on the job it matched.
  const renamed = new Map<string, string>()
  jobs.forEach((job, i) => {
    const slot = slots[i]!
    if (slot.deduplicated) renamed.set(job.id, 'stored' in slot ? slot.stored.id : slot.id)
  })
  const owners = new Map(jobs.map((j) => [j.id, j.owner]))
  const plan: InsertPlan = {
    inserts: [],
    slots,
    edges: [],
    replacements,
    keysReleased: [...new Set(after.values())],
  }
  const planned = new Set<string>()
  jobs.forEach((job, i) => {
    if (slots[i]!.deduplicated) return
    if (planned.has(job.id)) throw jobIdTaken(job.id)
    let pending = 0
    const completion = new Set(job.onCompletion)
    const typeOf = (id: string): DependencyType => (completion.has(id) ? 'completion' : 'success')
    for (const id of job.dependsOn) {
      if (owners.has(id)) {
        if (!sameOwner(owners.get(id)!, job.owner)) throw missingDependency(job.id, id)
        // A job of this call, or the live job it was deduplicated onto: not finished yet.
        pending++
        continue
      }
      const found = upstream.get(id)
      if (found === undefined || !sameOwner(found.owner, job.owner)) throw missingDependency(job.id, id)
      const state = dependencyState(typeOf(id), found.status)
      if (state === 'dead') throw finishedDependency(job.id, id, found.status)
      if (state === 'pending') pending++
    }
    const dependsOn = job.dependsOn.map((id) => renamed.get(id) ?? id)
    // Queued after the running job that held its key: waits for it to be final.
    const running = after.get(i)
    if (running !== undefined) pending++
    const wanted = job.runAt ? job.runAt.getTime() : now + job.delayMs
    // A keyed debounced job added anew starts a burst: its maximum wait counts from now.
    const runAtMs =
      job.dedupeKey !== null && job.dedupeMode === 'debounce' ? debouncedRunAt(job, wanted, now) : wanted
    const status = initialStatus({
      pendingDependencies: pending,
      manual: queues.get(job.queue)!.mode === 'manual',
      runAt: new Date(runAtMs),
      now: new Date(now),
    })
    const expiresAtMs = resolveExpiry(job, runAtMs, now, jobs.length > 1 ? `jobs.${i}` : '')
    plan.inserts.push({ job, status, runAtMs, expiresAtMs, pending, dependsOn })
    plan.edges.push(...job.dependsOn.map((id, k) => [job.id, dependsOn[k]!, typeOf(id)] as const))
    if (running !== undefined) plan.edges.push([job.id, running, 'completion'])
    planned.add(job.id)
  })
  return plan
}

/**
 * Which jobs a live job already stands for: one earlier in the same call, one
 * stored with the key (kept, replaced, or run before the new one, as the
 * job's dedupeMode says), or one that finished within the job's dedupeTtlMs.
 */
function dedupe(
  jobs: readonly NewJob[],
  duplicates: ReadonlyMap<string, Job>,
  recent: ReadonlyMap<string, Job>,
  now: number,
): { slots: PlannedSlot[]; replacements: Replacement[]; after: Map<number, string> } {
  const takenInCall = new Map<string, string>()
  const replacements: Replacement[] = []
  const after = new Map<number, string>()
  const slots = jobs.map((job, i): PlannedSlot => {
    if (job.dedupeKey === null) return { deduplicated: false, id: job.id }
    const slot = dedupeSlot(job.queue, job.owner, job.dedupeKey)
    const earlier = takenInCall.get(slot)
    if (earlier !== undefined) return { deduplicated: true, id: earlier }
    const stored = duplicates.get(slot)
    if (stored) {
      const outcome = decideDedupe(job, stored, now, jobs.length > 1 ? `jobs.${i}` : '')
      if (outcome.kind === 'keep') return { deduplicated: true, stored }
      if (outcome.kind === 'replace') {
        replacements.push(outcome.replacement)
        return { deduplicated: true, stored, replaced: job.dedupeMode }
      }
      after.set(i, outcome.runningId)
    } else {
      const finished = recent.get(slot)
      if (finished && recentlyFinished(job, finished, now)) return { deduplicated: true, stored: finished }
    }
    takenInCall.set(slot, job.id)
    return { deduplicated: false, id: job.id }
  })
  return { slots, replacements, after }
}

/** Whether a finished job still holds the key for `job`: it finished within `job.dedupeTtlMs`. */
export function recentlyFinished(job: Pick<NewJob, 'dedupeTtlMs'>, finished: Job, now: number): boolean {
  return (
    job.dedupeTtlMs !== null &&
    finished.finishedAt !== null &&
    finished.finishedAt.getTime() > now - job.dedupeTtlMs
  )
}
