/**
 * Schedules on SQLite. Each method is one IMMEDIATE transaction: firing a
 * schedule reads it, asks core's planTicks which ticks are due, and writes a
 * run per tick (unique per schedule and tick time) with its job, before any
 * other writer can read the same cursor.
 */
import { conflict, notFound } from '../../core/errors.js'
import {
  KEPT_RUNS,
  nextTicks,
  planTicks,
  type Schedule,
  type ScheduleRecord,
  type ScheduleRun,
} from '../../core/schedules.js'
import { rowToSchedule, rowToScheduleRecord, rowToScheduleRun } from '../schedule-rows.js'
import { LIVE } from '../sql.js'
import type { BuildScheduledJob, FireParams, ScheduleChange } from '../store.js'
import { addJobs } from './add.js'
import { decode, type SqliteContext } from './db.js'
import { assertTerm } from './leadership.js'

type Row = Record<string, unknown>

/** A schedule's next tick: the first after its cursor, or null while it is paused. */
const nextRunAt = (s: ScheduleRecord, cursor: number): number | null =>
  s.enabled ? (nextTicks(s, cursor, cursor, 1)[0] ?? null) : null

function params(s: ScheduleRecord) {
  return {
    id: s.id,
    name: s.name,
    owner: s.owner,
    cron: s.cron,
    every: s.every,
    timezone: s.timezone,
    queue: s.queue,
    type: s.type,
    payload: JSON.stringify(s.payload),
    options: JSON.stringify(s.options),
    catchUp: s.catchUp,
    overlap: s.overlap,
    enabled: s.enabled ? 1 : 0,
  }
}

function assertNameFree(ctx: SqliteContext, s: ScheduleRecord): void {
  const taken = ctx
    .stmt("SELECT 1 FROM schedules WHERE coalesce(owner, '') = ? AND name = ? AND id <> ?")
    .get(s.owner ?? '', s.name, s.id)
  if (taken) throw conflict(`a schedule named '${s.name}' already exists`, { name: s.name })
}

export function createSchedule(ctx: SqliteContext, s: ScheduleRecord): Schedule {
  return ctx.tx(() => {
    assertNameFree(ctx, s)
    const now = ctx.now()
    const row = ctx
      .stmt(
        `INSERT INTO schedules (id, name, owner, cron, every_ms, timezone, queue, type, payload, options,
           catch_up, overlap, enabled, tick_cursor, next_run_at, created_at, updated_at)
         VALUES (@id, @name, @owner, @cron, @every, @timezone, @queue, @type, @payload, @options,
           @catchUp, @overlap, @enabled, @now, @next, @now, @now) RETURNING *`,
      )
      .get({ ...params(s), now, next: nextRunAt(s, now) }) as Row
    return rowToSchedule(row, decode)
  })
}

export function updateSchedule(ctx: SqliteContext, id: string, change: ScheduleChange): Schedule {
  return ctx.tx(() => {
    const current = ctx.stmt('SELECT * FROM schedules WHERE id = ?').get(id) as Row | undefined
    if (!current) throw notFound('schedule', id)
    const now = ctx.now()
    const { record, restart } = change(rowToScheduleRecord(current, decode), now)
    assertNameFree(ctx, record)
    const cursor = restart ? now : Number(current.tick_cursor)
    const row = ctx
      .stmt(
        `UPDATE schedules SET name = @name, cron = @cron, every_ms = @every, timezone = @timezone,
           queue = @queue, type = @type, payload = @payload, options = @options, catch_up = @catchUp,
           overlap = @overlap, enabled = @enabled, tick_cursor = @cursor, next_run_at = @next, updated_at = @now
         WHERE id = @id RETURNING *`,
      )
      .get({ ...params({ ...record, id }), cursor, next: nextRunAt(record, cursor), now }) as Row
    return rowToSchedule(row, decode)
  })
}

export function getSchedule(ctx: SqliteContext, id: string): Schedule | null {
  const row = ctx.stmt('SELECT * FROM schedules WHERE id = ?').get(id) as Row | undefined
  return row ? rowToSchedule(row, decode) : null
}

export function listSchedules(
  ctx: SqliteContext,
  filter: { owner?: string | null; name?: string },
): Schedule[] {
  const where: string[] = []
  const values: unknown[] = []
  if (filter.owner !== undefined) {
    where.push(filter.owner === null ? 'owner IS NULL' : 'owner = ?')
    if (filter.owner !== null) values.push(filter.owner)
  }
  if (filter.name !== undefined) {
    where.push('name = ?')
    values.push(filter.name)
  }
  const sql = `SELECT * FROM schedules ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY name, id`
  return (ctx.stmt(sql).all(...values) as Row[]).map((r) => rowToSchedule(r, decode))
}

export function deleteSchedule(ctx: SqliteContext, id: string): boolean {
  return ctx.tx(() => ctx.stmt('DELETE FROM schedules WHERE id = ?').run(id).changes > 0)
}

export function listScheduleRuns(ctx: SqliteContext, id: string, limit: number): ScheduleRun[] {
  const rows = ctx
    .stmt(
      `SELECT r.*, j.status AS job_status FROM schedule_runs r LEFT JOIN jobs j ON j.id = r.job_id
       WHERE r.schedule_id = ? ORDER BY r.id DESC LIMIT ?`,
    )
    .all(id, limit) as Row[]
  return rows.map((r) => rowToScheduleRun(r, decode))
}

export function dueSchedules(ctx: SqliteContext, limit: number): string[] {
  const rows = ctx
    .stmt(
      `SELECT id FROM schedules WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= ?
       ORDER BY next_run_at LIMIT ?`,
    )
    .all(ctx.now(), limit) as { id: string }[]
  return rows.map((r) => r.id)
}

export function fireSchedule(
  ctx: SqliteContext,
  id: string,
  build: BuildScheduledJob,
  params: FireParams = {},
): ScheduleRun[] {
  return ctx.tx(() => {
    const now = ctx.now()
    assertTerm(ctx, params.fence, now)
    const row = ctx.stmt('SELECT * FROM schedules WHERE id = ?').get(id) as Row | undefined
    if (!row) return []
    const schedule = rowToScheduleRecord(row, decode)
    let ticks = [now]
    if (!params.manual) {
      if (row.next_run_at === null || Number(row.next_run_at) > now || !schedule.enabled) return []
      const plan = planTicks({
        timing: schedule,
        cursor: Number(row.tick_cursor),
        now,
        catchUp: schedule.catchUp,
      })
      ctx
        .stmt('UPDATE schedules SET tick_cursor = ?, next_run_at = ? WHERE id = ?')
        .run(plan.cursor, plan.nextRunAt, id)
      ticks = plan.ticks
    }
    const runIds: number[] = []
    for (const tick of ticks) {
      const runId = runTick(ctx, schedule, tick, params.manual === true, now, build)
      if (runId !== null) runIds.push(runId)
    }
    if (runIds.length === 0) return []
    ctx
      .stmt('UPDATE schedules SET last_run_at = max(coalesce(last_run_at, 0), ?) WHERE id = ?')
      .run(Math.max(...ticks), id)
    pruneRuns(ctx, id)
    return listScheduleRuns(ctx, id, runIds.length)
      .filter((r) => runIds.includes(r.id))
      .reverse()
  })
}

/** Writes one run: its row first (a tick already run is skipped by the unique index), then its job. */
function runTick(
  ctx: SqliteContext,
  schedule: ScheduleRecord,
  tick: number,
  manual: boolean,
  now: number,
  build: BuildScheduledJob,
): number | null {
  const inserted = ctx
    .stmt(
      `INSERT INTO schedule_runs (schedule_id, tick_at, manual, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT DO NOTHING RETURNING id`,
    )
    .get(schedule.id, tick, manual ? 1 : 0, now) as { id: number } | undefined
  if (!inserted) return null
  const note = (column: 'job_id' | 'reason', value: string, skipped = false) =>
    ctx
      .stmt(`UPDATE schedule_runs SET ${column} = ?, skipped = ? WHERE id = ?`)
      .run(value, skipped ? 1 : 0, inserted.id)
  if (schedule.overlap === 'skip' && previousRunLive(ctx, schedule.id)) {
    note('reason', 'the previous run is still live (overlap: skip)', true)
  } else if (!ctx.stmt('SELECT 1 FROM queues WHERE name = ?').get(schedule.queue)) {
    note('reason', `queue '${schedule.queue}' does not exist`)
  } else {
    const { jobs } = addJobs(ctx, [schedule.queue], (queues) => [
      build(schedule, queues.get(schedule.queue)!, tick),
    ])
    note('job_id', jobs[0]!.id)
    if (jobs[0]!.status === 'waiting') ctx.ready(schedule.queue)
  }
  return inserted.id
}

/** Whether the job of the schedule's latest run that made one has work ahead of it. */
function previousRunLive(ctx: SqliteContext, scheduleId: string): boolean {
  const row = ctx
    .stmt(
      `SELECT j.status IN ${LIVE} AS live FROM schedule_runs r JOIN jobs j ON j.id = r.job_id
       WHERE r.schedule_id = ? ORDER BY r.id DESC LIMIT 1`,
    )
    .get(scheduleId) as { live: number } | undefined
  return row?.live === 1
}

/** Keeps a schedule's newest KEPT_RUNS runs. Older ticks stay done: they are at or before the cursor. */
function pruneRuns(ctx: SqliteContext, scheduleId: string): void {
  ctx
    .stmt(
      `DELETE FROM schedule_runs WHERE schedule_id = ? AND id <= (
         SELECT id FROM schedule_runs WHERE schedule_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    )
    .run(scheduleId, scheduleId, KEPT_RUNS)
}
