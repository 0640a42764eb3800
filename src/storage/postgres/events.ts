import type { JobStatus } from '../../core/types.js'
import { NOW } from './clock.js'
import type { Queryable } from './db.js'

/** State events of jobs that moved; `at` is the statement's time (null: the database clock). */
export async function insertStateEvents(
  c: Queryable,
  jobs: { id: string; queue: string; status: JobStatus }[],
  at: Date | null,
): Promise<void> {
  if (jobs.length === 0) return
  await c.query(
    `INSERT INTO events (job_id, queue, kind, status, at)
     SELECT id, queue, 'state', status, ${NOW(4)}
     FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, queue, status)`,
    [jobs.map((j) => j.id), jobs.map((j) => j.queue), jobs.map((j) => j.status), at],
  )
}
