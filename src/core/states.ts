/**
 * The job state machine. Every change of a job's status goes through one of
 * the actions below; the drivers build their guarded UPDATEs from
 * `sourcesOf(action)` and, when a guard matches nothing, call
 * `assertTransition` on the row they find to raise the right typed error.
 *
 *   waiting    ready to run; claimable
 *   scheduled  runs at `runAt` (a delayed job, or a retry waiting out its backoff); claimable once due
 *   blocked    waits for its dependencies to complete
 *   held       in a manual-mode queue; waits to be promoted
 *   active     leased to a worker
 *   completed  final: the handler returned
 *   failed     final: out of attempts, not retryable, or a dependency failed
 *   cancelled  final: cancelled by a user
 *
 *   add          -> waiting | scheduled | blocked | held
 *   claim        waiting | scheduled -> active
 *   complete     active -> completed
 *   fail         active -> scheduled (retry after backoff) | failed
 *   expire       active -> waiting | failed (lease ran out; the attempt counts)
 *   release      active -> waiting (worker shut down; the attempt is given back)
 *   snooze       active -> waiting | scheduled (the handler asked to run later; the attempt is given back)
 *   cancel       waiting | scheduled | blocked | held | active -> cancelled
 *   retry        failed | cancelled -> waiting | held | blocked (dependencies unfinished again)
 *   promote      held | scheduled -> waiting
 *   unblock      blocked -> waiting | scheduled | held (last dependency completed)
 *   depfail      blocked -> failed (a dependency failed for good)
 *   reprioritise any live state except active -> same state
 *   remove       any state except active -> (deleted)
 */
import { deadDependency } from './dependencies.js'
import { DocketError } from './errors.js'
import { type JobStatus, LIVE_STATUSES } from './types.js'

export const TRANSITIONS = {
  claim: { from: ['waiting', 'scheduled'], to: ['active'] },
  complete: { from: ['active'], to: ['completed'] },
  fail: { from: ['active'], to: ['scheduled', 'failed'] },
  expire: { from: ['active'], to: ['waiting', 'failed'] },
  release: { from: ['active'], to: ['waiting'] },
  snooze: { from: ['active'], to: ['waiting', 'scheduled'] },
  cancel: { from: LIVE_STATUSES, to: ['cancelled'] },
  retry: { from: ['failed', 'cancelled'], to: ['waiting', 'held', 'blocked'] },
  promote: { from: ['held', 'scheduled'], to: ['waiting'] },
  unblock: { from: ['blocked'], to: ['waiting', 'scheduled', 'held'] },
  depfail: { from: ['blocked'], to: ['failed'] },
  reprioritise: {
    from: ['waiting', 'scheduled', 'blocked', 'held'],
    to: ['waiting', 'scheduled', 'blocked', 'held'],
  },
  remove: { from: ['waiting', 'scheduled', 'blocked', 'held', 'completed', 'failed', 'cancelled'], to: [] },
} as const satisfies Record<string, { from: readonly JobStatus[]; to: readonly JobStatus[] }>

export type JobAction = keyof typeof TRANSITIONS

export function sourcesOf(action: JobAction): readonly JobStatus[] {
  return TRANSITIONS[action].from
}

export function canTransition(action: JobAction, from: JobStatus): boolean {
  return (TRANSITIONS[action].from as readonly JobStatus[]).includes(from)
}

/** Throws INVALID_STATE naming the job, its status and what the action needs. */
export function assertTransition(action: JobAction, jobId: string, from: JobStatus): void {
  if (canTransition(action, from)) return
  const allowed = TRANSITIONS[action].from.join(', ')
  throw new DocketError(
    'INVALID_STATE',
    `cannot ${action} job '${jobId}': it is ${from}, and ${action} applies only to jobs that are ${allowed}`,
    { jobId, status: from, action, allowedFrom: [...TRANSITIONS[action].from] },
  )
}

/** The state a new or unblocked job enters. Dependencies come first, then manual mode, then the run-at time. */
export function initialStatus(input: {
  pendingDependencies: number
  manual: boolean
  runAt: Date
  now: Date
}): JobStatus {
  if (input.pendingDependencies > 0) return 'blocked'
  if (input.manual) return 'held'
  if (input.runAt.getTime() > input.now.getTime()) return 'scheduled'
  return 'waiting'
}

/**
 * Where a failed or cancelled job goes when retried, given its dependencies
 * that have not completed: blocked on them while there are any, else straight
 * back to ready (held, if its queue is manual). Refused while one of them has
 * failed or been cancelled, since the job would wait forever.
 */
export function decideRetry(
  jobId: string,
  unfinished: readonly { id: string; status: JobStatus }[],
  manual: boolean,
): { status: JobStatus; pendingDependencies: number } {
  const dead = unfinished.find((u) => u.status === 'failed' || u.status === 'cancelled')
  if (dead) throw deadDependency(jobId, dead)
  const status = unfinished.length > 0 ? 'blocked' : manual ? 'held' : 'waiting'
  return { status, pendingDependencies: unfinished.length }
}
