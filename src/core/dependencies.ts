import { conflict, type DocketError, invalidArgument } from './errors.js'
import type { JobError, JobStatus } from './types.js'

/**
 * Jobs added together may depend on one another; jobs already stored cannot
 * depend on new ones, so a cycle can only form inside one add call. Rejects
 * self-dependencies and cycles, naming the jobs on the cycle.
 */
export function assertAcyclic(jobs: readonly { id: string; dependsOn: readonly string[] }[]): void {
  const edges = new Map(jobs.map((job) => [job.id, job.dependsOn]))
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: string[] = []

  const visit = (id: string): void => {
    const seen = state.get(id)
    if (seen === 'done') return
    if (seen === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(id)), id]
      throw invalidArgument(`dependency cycle: ${cycle.join(' -> ')}`, [
        { path: 'dependsOn', message: `jobs ${cycle.join(' -> ')} depend on each other` },
      ])
    }
    state.set(id, 'visiting')
    stack.push(id)
    for (const next of edges.get(id) ?? []) if (edges.has(next)) visit(next)
    stack.pop()
    state.set(id, 'done')
  }

  for (const job of jobs) visit(job.id)
}

/** The error a blocked job fails with when a job it waits for will never complete. */
export function dependencyFailure(upstreamId: string, why: string, attempt: number, at: Date): JobError {
  return {
    message: `dependency ${upstreamId} ${why}`,
    name: 'DependencyFailed',
    stack: null,
    attempt,
    at,
    retryable: false,
  }
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
