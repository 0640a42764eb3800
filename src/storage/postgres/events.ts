import type { JobStatus } from '../../core/types.js'
import type { Queryable } from './db.js'

export async function insertStateEvents(
  c: Queryable,
  jobs: { id: string; queue: string; status: JobStatus }[],
): Promise<void> {
  if (jobs.length === 0) return
  await c.query(
    `INSERT INTO events (job_id, queue, kind, status)
     SELECT id, queue, 'state', status FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, queue, status)`,
    [jobs.map((j) => j.id), jobs.map((j) => j.queue), jobs.map((j) => j.status)],
  )
}
