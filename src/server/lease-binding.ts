/**
 * A lease belongs to the key that claimed it. Worker ids are bound to the key
 * that registered them (routes/remote.ts), and a job remembers the worker of
 * its latest attempt, so a lease token is good only in the hands of the key
 * that registered that worker (an admin key may act for any worker). Another
 * key holding the token, however it got it, is answered exactly as a wrong
 * token is: a lease report gets 409 LEASE_LOST `{ reason: 'deleted' }`, a
 * lease-scoped read a 404 for the job. Nothing is written first.
 *
 * Every HTTP route that takes a lease token goes through `leaseBindings`
 * (one lease: `assertLeaseBinding`, `holdsLeaseOfCaller`) before it acts:
 * heartbeat, release, progress, events, complete, fail, snooze, output
 * files, and the lease-scoped reads (files, upstream). A route that reports
 * on many leases at once calls `leaseBindings` with all of them and acts on
 * those it returns null for.
 */
import { leaseLost } from '../core/errors.js'
import { type LeaseOutcome, leaseGone } from '../core/leases.js'
import type { LeaseRef } from '../core/types.js'
import type { Docket } from '../docket.js'
import type { Principal } from './auth.js'
import { accessOf } from './internals.js'

/**
 * For each lease, null when `principal` may report on it (its key registered
 * the worker of the job's latest attempt, or it is an admin), else the
 * outcome a token the job never had gets. A job that does not exist (or an
 * id that is not a job id) is left to the lease call itself, which answers
 * it as `deleted` too.
 */
export async function leaseBindings(
  docket: Docket,
  principal: Principal,
  refs: LeaseRef[],
): Promise<(LeaseOutcome | null)[]> {
  if (principal.role === 'admin') return refs.map(() => null)
  if (principal.role !== 'worker') return refs.map((r) => leaseGone(r.id, 'deleted'))
  // One read for all of them: a bulk report costs one look-up, not one per job.
  const registrants = await accessOf(docket).jobWorkerRegistrants(refs.map((r) => r.id))
  return refs.map((ref) => {
    const id = ref.id.toLowerCase()
    if (!registrants.has(id)) return null
    return registrants.get(id) === principal.name ? null : leaseGone(ref.id, 'deleted')
  })
}

/** One lease report: LEASE_LOST `{ reason: 'deleted' }` unless the caller's key holds the lease (see leaseBindings). */
export async function assertLeaseBinding(docket: Docket, principal: Principal, ref: LeaseRef): Promise<void> {
  const [refused] = await leaseBindings(docket, principal, [ref])
  if (refused && !refused.ok) throw leaseLost(refused.id, refused.reason)
}

/**
 * A lease-scoped read (a job's files, its upstream results): whether `token`
 * is the job's live lease and the caller's key holds it. False: answer as
 * for a missing job.
 */
export async function holdsLeaseOfCaller(
  docket: Docket,
  principal: Principal,
  jobId: string,
  token: string | undefined,
): Promise<boolean> {
  if (!token) return false
  const ref = { id: jobId, token }
  const [refused] = await leaseBindings(docket, principal, [ref])
  if (refused) return false
  const [outcome] = await docket.workers.checkLeases(ref)
  return outcome!.ok
}
