import type { JobEventKind, JobStatus } from '../../core/types.js'
import type { SqliteContext } from './db.js'

/** A job moved to `status`; `workerId` is the worker whose lease the change is part of, if any. */
export function insertStateEvent(
  ctx: SqliteContext,
  jobId: string,
  queue: string,
  status: JobStatus,
  at: number,
  workerId: string | null = null,
) {
  ctx
    .stmt(`INSERT INTO events (job_id, queue, worker_id, kind, status, at) VALUES (?, ?, ?, 'state', ?, ?)`)
    .run(jobId, queue, workerId, status, at)
}

export interface EventRow {
  jobId: string
  queue: string
  workerId?: string | null
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
      `INSERT INTO events (job_id, queue, worker_id, kind, status, step, percent, message, data, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      e.jobId,
      e.queue,
      e.workerId ?? null,
      e.kind,
      e.status ?? null,
      e.step ?? null,
      e.percent ?? null,
      e.message ?? null,
      e.data === undefined || e.data === null ? null : JSON.stringify(e.data),
      e.at,
    )
}
