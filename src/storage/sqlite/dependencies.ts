/**
 * Moving dependents along when the job they wait for finishes: the last
 * completed dependency unblocks a job; a dependency that fails for good (or
 * is cancelled or removed) fails every job downstream of it, transitively,
 * with an error naming it.
 */
import { dependencyFailure } from '../../core/dependencies.js'
import { initialStatus } from '../../core/states.js'
import type { JobStatus } from '../../core/types.js'
import { encodeError } from '../rows.js'
import type { SqliteContext } from './db.js'
import { insertStateEvent } from './events.js'

interface DependentRow {
  id: string
  queue: string
  run_at: number
  pending_deps: number
  mode: string
}

export function onCompleted(ctx: SqliteContext, upstreamId: string, now: number): void {
  const dependents = ctx
    .stmt(
      `SELECT j.id, j.queue, j.run_at, j.pending_deps, q.mode FROM job_dependencies d
       JOIN jobs j ON j.id = d.job_id JOIN queues q ON q.name = j.queue
       WHERE d.depends_on = ? AND j.status = 'blocked'`,
    )
    .all(upstreamId) as DependentRow[]
  for (const dep of dependents) {
    const pending = dep.pending_deps - 1
    const status: JobStatus = initialStatus({
      pendingDependencies: pending,
      manual: dep.mode === 'manual',
      runAt: new Date(dep.run_at),
      now: new Date(now),
    })
    ctx.stmt('UPDATE jobs SET pending_deps = ?, status = ? WHERE id = ?').run(pending, status, dep.id)
    if (status !== 'blocked') insertStateEvent(ctx, dep.id, dep.queue, status, now)
    if (status === 'waiting') ctx.ready(dep.queue)
  }
}

/** `why` is 'failed', 'cancelled' or 'removed'. */
export function onFailedForGood(ctx: SqliteContext, upstreamId: string, why: string, now: number): void {
  let frontier = [{ id: upstreamId, why }]
  while (frontier.length > 0) {
    const next: typeof frontier = []
    for (const upstream of frontier) {
      const dependents = ctx
        .stmt(
          `SELECT j.id, j.queue, j.attempts FROM job_dependencies d JOIN jobs j ON j.id = d.job_id
           WHERE d.depends_on = ? AND j.status = 'blocked'`,
        )
        .all(upstream.id) as { id: string; queue: string; attempts: number }[]
      for (const dep of dependents) {
        const error = dependencyFailure(upstream.id, upstream.why, dep.attempts, new Date(now))
        ctx
          .stmt(
            `UPDATE jobs SET status = 'failed', finished_at = ?, last_error = ?, error_count = error_count + 1
             WHERE id = ?`,
          )
          .run(now, encodeError(error), dep.id)
        insertStateEvent(ctx, dep.id, dep.queue, 'failed', now)
        next.push({ id: dep.id, why: 'failed' })
      }
    }
    frontier = next
  }
}
