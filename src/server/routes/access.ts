/**
 * Who may see what. A user sees only jobs and batches they own; asking for
 * someone else's gets 404, exactly as for one that does not exist, so ids
 * cannot be probed.
 */
import { DocketError, notFound } from '../../core/errors.js'
import type { Job, JobDetail } from '../../core/types.js'
import type { Docket } from '../../docket.js'
import type { BatchSummary } from '../../storage/store.js'
import type { Principal } from '../auth.js'

export const READERS = ['admin', 'user'] as const
export const ADMINS = ['admin'] as const
export const WORKERS = ['admin', 'worker'] as const

export function canSee(principal: Principal, owner: string | null): boolean {
  return principal.role === 'admin' || (principal.role === 'user' && owner === principal.name)
}

export async function visibleJob(docket: Docket, principal: Principal, id: string): Promise<JobDetail> {
  const job = await docket.getJob(id)
  if (!canSee(principal, job.owner)) throw notFound('job', id)
  return job
}

export async function visibleBatch(docket: Docket, principal: Principal, id: string): Promise<BatchSummary> {
  const batch = await docket.getBatch(id)
  if (!canSee(principal, batch.owner)) throw notFound('batch', id)
  return batch
}

/** The owner a new job gets: a user's own name always; an admin may name anyone. */
export function ownerFor(principal: Principal, requested: string | null | undefined): string | null {
  if (principal.role === 'admin') return requested ?? null
  if (requested != null && requested !== principal.name) {
    throw new DocketError('FORBIDDEN', `a user key may only create jobs owned by '${principal.name}'`, {
      field: 'owner',
    })
  }
  return principal.name
}

export const owned = (principal: Principal, jobs: Job[]) => jobs.filter((j) => canSee(principal, j.owner))
