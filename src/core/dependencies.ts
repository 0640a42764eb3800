import { jobError } from './attempts.js'
import { conflict, DocketError, invalidArgument } from './errors.js'
import type { JobError, JobStatus } from './types.js'

/**
 * What a dependency waits for: `success` (the default; a bare id) waits for
 * the upstream job to complete and fails the dependent if it fails for good;
 * `completion` waits until it is final, whatever its outcome, and never
 * passes a failure on.
 */
export const DEPENDENCY_TYPES = ['success', 'completion'] as const
export type DependencyType = (typeof DEPENDENCY_TYPES)[number]

/**
 * Where a dependency of type `on` stands while its upstream job is `status`:
 * still pending, resolved (the dependent need not wait for it), or dead (the
 * dependent can never run).
 */
export function dependencyState(on: DependencyType, status: JobStatus): 'pending' | 'resolved' | 'dead' {
  if (status === 'completed') return 'resolved'
  if (status === 'failed' || status === 'cancelled') return on === 'completion' ? 'resolved' : 'dead'
  return 'pending'
}

/**
 * Jobs added together may depend on one another; jobs already stored cannot
 * depend on new ones, so a cycle can only form inside one add call. Rejects
 * self-dependencies and cycles, naming the jobs on the cycle.
 */
export function assertAcyclic(jobs: readonly { id: string; dependsOn: readonly string[] }[]): void {
  const edges = new Map(jobs.map((job) => [job.id, job.dependsOn]))
  const state = new Map<string, 'visiting' | 'done'>()
  // Depth-first with an explicit stack: a chain of 10,000 jobs must not overflow the call stack.
  const path: string[] = []
  const nextEdge: number[] = []

  const enter = (id: string) => {
    state.set(id, 'visiting')
    path.push(id)
    nextEdge.push(0)
  }

  for (const root of jobs) {
    if (state.has(root.id)) continue
    enter(root.id)
    while (path.length > 0) {
      const top = path.length - 1
      const id = path[top]!
      const deps = edges.get(id) ?? []
      const i = nextEdge[top]!
      if (i === deps.length) {
        state.set(id, 'done')
        path.pop()
        nextEdge.pop()
        continue
      }
      nextEdge[top] = i + 1
      const next = deps[i]!
      if (!edges.has(next)) continue
      const seen = state.get(next)
      if (seen === 'visiting') throw cycleError([...path.slice(path.indexOf(next)), next])
      if (seen === undefined) enter(next)
    }
  }
}

function cycleError(cycle: string[]): DocketError {
  // A cycle of thousands of jobs is named in the details; the message stays readable.
  const shown =
    cycle.length <= 12
      ? cycle.join(' -> ')
      : `${cycle.slice(0, 10).join(' -> ')} -> … (${cycle.length - 1} jobs)`
  return invalidArgument(`dependency cycle: ${shown}`, [
    { path: 'dependsOn', message: `jobs ${cycle.join(' -> ')} depend on each other` },
  ])
}

/** The error a blocked job fails with when a job it waits for will never complete. */
export function dependencyFailure(upstreamId: string, why: string, attempt: number, at: Date): JobError {
  const message = `dependency ${upstreamId} ${why}`
  return jobError({ message, name: 'DependencyFailed', stack: null, retryable: false }, attempt, at)
}

/** Retrying a job is refused while one of its dependencies has failed or been cancelled. */
export function deadDependency(jobId: string, upstream: { id: string; status: JobStatus }): DocketError {
  return conflict(
    `cannot retry job '${jobId}': its dependency '${upstream.id}' is ${upstream.status}; retry that first`,
    {
      jobId,
      dependency: upstream.id,
    },
  )
}

/**
 * A job may depend only on jobs of its own owner (jobs without an owner on
 * jobs without an owner): someone else's job is answered exactly as one that
 * does not exist, so a dependency can neither probe for it nor learn its outcome.
 */
export const sameOwner = (a: string | null, b: string | null): boolean => (a ?? null) === (b ?? null)

/** A new job may not depend on one that failed or was cancelled: it would wait forever. */
export function finishedDependency(jobId: string, upstream: string, status: JobStatus): DocketError {
  return conflict(
    `job '${jobId}' cannot depend on job '${upstream}': it is ${status} and will never complete`,
    { id: upstream, status },
  )
}

export function missingDependency(jobId: string, upstream: string): DocketError {
  return new DocketError('NOT_FOUND', `job '${jobId}' depends on job '${upstream}', which does not exist`, {
    resource: 'job',
    id: upstream,
    path: 'dependsOn',
  })
}
