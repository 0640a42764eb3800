/** Schedule rows -> domain, shared by both drivers (SQLite: epoch ms and JSON text; PostgreSQL: timestamptz and jsonb). */
import {
  type CatchUp,
  type Overlap,
  runOutcome,
  type Schedule,
  type ScheduleJobOptions,
  type ScheduleRecord,
  type ScheduleRun,
} from '../core/schedules.js'
import type { JobStatus } from '../core/types.js'
import type { Decode } from './rows.js'

type Row = Record<string, unknown>

const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))

export function rowToScheduleRecord(row: Row, d: Decode): ScheduleRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    owner: strOrNull(row.owner),
    cron: strOrNull(row.cron),
    every: row.every_ms === null || row.every_ms === undefined ? null : Number(row.every_ms),
    timezone: strOrNull(row.timezone),
    queue: String(row.queue),
    type: String(row.type),
    payload: row.payload === null || row.payload === undefined ? null : d.json(row.payload),
    options: (d.json(row.options) ?? {}) as ScheduleJobOptions,
    catchUp: row.catch_up as CatchUp,
    overlap: row.overlap as Overlap,
    enabled: Boolean(row.enabled),
  }
}

export function rowToSchedule(row: Row, d: Decode): Schedule {
  return {
    ...rowToScheduleRecord(row, d),
    nextRunAt: row.next_run_at == null ? null : d.date(row.next_run_at),
    lastRunAt: row.last_run_at == null ? null : d.date(row.last_run_at),
    createdAt: d.date(row.created_at),
    updatedAt: d.date(row.updated_at),
  }
}

/** A run row, joined with its job's status as `job_status` (null when the job is gone). */
export function rowToScheduleRun(row: Row, d: Decode): ScheduleRun {
  const jobId = strOrNull(row.job_id)
  return {
    id: Number(row.id),
    scheduleId: String(row.schedule_id),
    at: d.date(row.tick_at),
    manual: Boolean(row.manual),
    jobId,
    outcome: runOutcome(Boolean(row.skipped), jobId, (row.job_status as JobStatus | null) ?? null),
    reason: strOrNull(row.reason),
    createdAt: d.date(row.created_at),
  }
}
