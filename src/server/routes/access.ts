/**
 * Who may see what. A user sees only jobs and batches they own; asking for
 * someone else's gets 404, exactly as for one that does not exist, so ids
 * cannot be probed.
 */
import type { FastifyRequest } from 'fastify'
import { v5 as uuidv5 } from 'uuid'
import { isJobId } from '../../core/bounds.js'
import { DocketError, notFound } from '../../core/errors.js'
import type { Job, JobDetail } from '../../core/types.js'
import type { Docket } from '../../docket.js'
import type { BatchSummary } from '../../storage/store.js'
import type { Principal } from '../auth.js'
import { holdsLeaseOfCaller } from '../lease-binding.js'

export const READERS = ['admin', 'user'] as const
export const ADMINS = ['admin'] as const
export const WORKERS = ['admin', 'worker'] as const

/** Whether the principal may see a job: its owner's rule, and a viewer's one job. */
export function canSeeJob(principal: Principal, job: { id: string; owner: string | null }): boolean {
  if (principal.role === 'viewer') return job.id === principal.jobId
  return canSee(principal, job.owner)
}

export function canSee(principal: Principal, owner: string | null): boolean {
  return principal.role === 'admin' || (principal.role === 'user' && owner === principal.name)
}

export async function visibleJob(docket: Docket, principal: Principal, id: string): Promise<JobDetail> {
  // A viewer's question about another job is answered before any read, as a missing job's.
  if (principal.role === 'viewer' && id.toLowerCase() !== principal.jobId) throw notFound('job', id)
  const job = await docket.getJob(id)
  if (!canSeeJob(principal, job)) throw notFound('job', id)
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

/** The namespace of the job ids derived from ids that user keys supply (a fixed, random UUID). */
const USER_ID_NAMESPACE = '6f1d3c2e-8b4a-4e0f-9a57-2c1b7d9e4f60'

/** The id a job gets when a user supplies `id`: the same for the same user and id, and only theirs. */
export const userJobId = (user: string, id: string): string =>
  uuidv5(`${user}\u0000${id.toLowerCase()}`, USER_ID_NAMESPACE)

/**
 * Job ids are one namespace for everyone, so an id a user key supplies is
 * scoped to that user: the job's id is derived from the user's name and the
 * id given (userJobId). The same user sending the same id gets the same job
 * id (a retried request is a 409 about their own job), and nothing a user
 * sends can land on, or probe for, an id someone else holds. `dependsOn`
 * entries (ids, or `{ id, on }`) naming an id given in the same request follow it; any other entry
 * is a job id as the server returned it. Admin keys use ids as given.
 */
export function scopeJobIds<T extends { id?: unknown; dependsOn?: unknown }>(
  principal: Principal,
  inputs: T[],
): T[] {
  if (principal.role === 'admin') return inputs
  const given = new Map<string, string>()
  for (const input of inputs)
    if (isJobId(input.id)) given.set(input.id.toLowerCase(), userJobId(principal.name, input.id))
  if (given.size === 0) return inputs
  return inputs.map((input) => {
    const scoped = { ...input }
    if (isJobId(input.id)) scoped.id = given.get(input.id.toLowerCase())
    if (Array.isArray(input.dependsOn))
      scoped.dependsOn = input.dependsOn.map((d: unknown) => {
        if (isJobId(d)) return given.get(d.toLowerCase()) ?? d
        // `{ id, on }`: the id follows the same rule.
        const entry = d as { id?: unknown } | null
        if (entry && typeof entry === 'object' && isJobId(entry.id))
          return { ...entry, id: given.get(entry.id.toLowerCase()) ?? entry.id }
        return d
      })
    return scoped
  })
}

export const owned = (principal: Principal, jobs: Job[]) => jobs.filter((j) => canSee(principal, j.owner))

/**
 * Whether the request carries a live lease token of the job (the
 * x-lease-token header, or `?token=`) that the caller's key holds: how a
 * worker key reads a job's files and upstream results, only while it holds
 * the job (lease-binding.ts).
 */
export async function holdsLease(docket: Docket, request: FastifyRequest, jobId: string): Promise<boolean> {
  const header = request.headers['x-lease-token']
  const token =
    (typeof header === 'string' ? header : undefined) ?? (request.query as { token?: string }).token
  return holdsLeaseOfCaller(docket, request.principal, jobId, token)
}
