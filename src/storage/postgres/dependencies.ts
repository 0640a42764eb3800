/**
 * A dependency that fails for good (or is cancelled or removed) fails every
 * job downstream of it, transitively, with an error naming it. Completion's
 * unblocking lives in SQL (complete_jobs, unblock_dependents), on the hot path.
 */
import { dependencyFailure } from '../../core/dependencies.js'
import { encodeError } from '../rows.js'
import { NOW } from './clock.js'
import type { Queryable } from './db.js'
import { insertStateEvents } from './events.js'

/** `now` is the transaction's time (null: the database clock). */
export async function failDependents(
  c: Queryable,
  upstreamId: string,
  why: string,
  now: Date | null,
): Promise<void> {
  let frontier = [{ id: upstreamId, why }]
  while (frontier.length > 0) {
    const next: typeof frontier = []
    for (const upstream of frontier) {
      const dependents = await c.query<{ id: string; queue: string; attempts: number }>(
        `SELECT j.id, j.queue, j.attempts FROM job_dependencies d JOIN jobs j ON j.id = d.job_id
         WHERE d.depends_on = $1 AND j.status = 'blocked' FOR UPDATE OF j`,
        [upstream.id],
      )
      for (const dep of dependents) {
        const error = dependencyFailure(upstream.id, upstream.why, dep.attempts, now ?? new Date())
        await c.query(
          `UPDATE jobs SET status = 'failed', finished_at = ${NOW(3)}, last_error = $2,
             error_count = error_count + 1
           WHERE id = $1`,
          [dep.id, encodeError(error), now],
        )
        next.push({ id: dep.id, why: 'failed' })
      }
      await insertStateEvents(
        c,
        dependents.map((d) => ({ id: d.id, queue: d.queue, status: 'failed' as const })),
        now,
      )
    }
    frontier = next
  }
}
