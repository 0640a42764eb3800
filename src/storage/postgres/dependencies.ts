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
      await resolveCompletionDependents(c, upstream.id, now)
      const dependents = await c.query<{ id: string; queue: string; attempts: number }>(
        `SELECT j.id, j.queue, j.attempts FROM job_dependencies d JOIN jobs j ON j.id = d.job_id
         WHERE d.depends_on = $1 AND j.status = 'blocked' AND d.type = 'success' ORDER BY j.id FOR UPDATE OF j`,
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

/**
 * The upstream job is final without completing: dependents that wait only for
 * its completion have one dependency fewer, and the last one unblocks them
 * (the states mirror core/states.ts initialStatus, as unblock_dependents does).
 */
async function resolveCompletionDependents(
  c: Queryable,
  upstreamId: string,
  now: Date | null,
): Promise<void> {
  await c.query(
    `WITH counts AS (
       SELECT d.job_id, count(*)::int AS n FROM job_dependencies d
       WHERE d.depends_on = $1 AND d.type = 'completion' GROUP BY d.job_id
     ), locked AS (
       -- In id order, as every statement that writes several jobs locks them.
       SELECT j.id FROM jobs j JOIN counts c ON c.job_id = j.id WHERE j.status = 'blocked'
       ORDER BY j.id FOR NO KEY UPDATE OF j
     ), moved AS (
       UPDATE jobs j SET
         pending_deps = j.pending_deps - c.n,
         status = CASE
           WHEN j.pending_deps - c.n > 0 THEN 'blocked'
           WHEN q.mode = 'manual' THEN 'held'
           WHEN j.run_at > ${NOW(2)} THEN 'scheduled'
           ELSE 'waiting' END
       FROM counts c, queues q, locked l
       WHERE j.id = c.job_id AND l.id = j.id AND q.name = j.queue AND j.status = 'blocked'
       RETURNING j.id, j.queue, j.status
     ), ev AS (
       INSERT INTO events (job_id, queue, kind, status, at)
       SELECT id, queue, 'state', status, ${NOW(2)} FROM moved WHERE status <> 'blocked'
     )
     SELECT count(pg_notify('docket_ready_' || current_schema(), queue)) AS n
     FROM (SELECT DISTINCT queue FROM moved WHERE status = 'waiting') ready`,
    [upstreamId, now],
  )
}
