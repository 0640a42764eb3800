import type { JobEventKind, JobStatus } from '../../core/types.js'
import type { SqliteContext } from './db.js'

export function insertStateEvent(
  ctx: SqliteContext,
  jobId: string,
  queue: string,
  status: JobStatus,
  at: number,
) {
  ctx
    .stmt(`INSERT INTO events (job_id, queue, kind, status, at) VALUES (?, ?, 'state', ?, ?)`)
    .run(jobId, queue, status, at)
}

export interface EventRow {
  jobId: string
  queue: string
  kind: JobEventKind
  status?: JobStatus | null
  step?: string | null
  percent?: number | null
  message?: string | null
  data?: unknown
  at: number
}

export function insertEvent(ctx: SqliteContext, e: EventRow) {
  ctx
    .stmt(
      `INSERT INTO events (job_id, queue, kind, status, step, percent, message, data, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      e.jobId,
      e.queue,
      e.kind,
      e.status ?? null,
      e.step ?? null,
      e.percent ?? null,
      e.message ?? null,
      e.data === undefined || e.data === null ? null : JSON.stringify(e.data),
      e.at,
    )
}
