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

/** The upstream job completed: every dependent has one dependency fewer to wait for. PostgreSQL twin: src/storage/postgres/functions/unblock_dependents.sql. */
export function onCompleted(ctx: SqliteContext, upstreamId: string, now: number): void {
  resolveDependents(ctx, upstreamId, now, false)
}

/** One dependency fewer for each blocked dependent (only those waiting for completion when `completionOnly`). */
function resolveDependents(
  ctx: SqliteContext,
  upstreamId: string,
  now: number,
  completionOnly: boolean,
): void {
  const dependents = ctx
    .stmt(
      `SELECT j.id, j.queue, j.run_at, j.pending_deps, q.mode FROM job_dependencies d
       JOIN jobs j ON j.id = d.job_id JOIN queues q ON q.name = j.queue
       WHERE d.depends_on = ? AND j.status = 'blocked' AND (? = 0 OR d.type = 'completion')`,
    )
    .all(upstreamId, completionOnly ? 1 : 0) as DependentRow[]
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

/**
 * `why` is 'failed', 'cancelled', 'expired' or 'removed'. Dependents waiting
 * for success fail, transitively; those waiting only for completion have one
 * dependency fewer (core/dependencies.ts dependencyState).
 */
export function onFailedForGood(ctx: SqliteContext, upstreamId: string, why: string, now: number): void {
  let frontier = [{ id: upstreamId, why }]
  while (frontier.length > 0) {
    const next: typeof frontier = []
    for (const upstream of frontier) {
      resolveDependents(ctx, upstream.id, now, true)
      const dependents = ctx
        .stmt(
          `SELECT j.id, j.queue, j.attempts FROM job_dependencies d JOIN jobs j ON j.id = d.job_id
           WHERE d.depends_on = ? AND j.status = 'blocked' AND d.type = 'success'`,
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
