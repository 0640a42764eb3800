import type { JobStatus } from '../../core/types.js'
import { NOW } from './clock.js'
import type { Queryable } from './db.js'

/**
 * Jobs moved to a status; `workerId` is the worker whose lease the change is
 * part of, if any; `at` is the statement's time (null: the database clock).
 */
export async function insertStateEvents(
  c: Queryable,
  jobs: { id: string; queue: string; status: JobStatus; workerId?: string | null }[],
  at: Date | null,
): Promise<void> {
  if (jobs.length === 0) return
  await c.query(
    `INSERT INTO events (job_id, queue, worker_id, kind, status, at)
     SELECT id, queue, worker_id, 'state', status, ${NOW(5)}
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS t(id, queue, status, worker_id)`,
    [
      jobs.map((j) => j.id),
      jobs.map((j) => j.queue),
      jobs.map((j) => j.status),
      jobs.map((j) => j.workerId ?? null),
      at,
    ],
  )
}
