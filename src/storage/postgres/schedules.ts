/**
 * Schedules on PostgreSQL. Firing a schedule locks its row (FOR UPDATE), so
 * two servers firing it at once take turns and the second sees the first's
 * cursor; each tick's run row is unique per schedule and tick time, so even a
 * writer that got past the lock could not make a tick's job twice. The leader's
 * term fence is the transaction's first statement.
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
import { addInTransaction } from './add.js'
import { NOW } from './clock.js'
import { decode, type PgContext, type Queryable } from './db.js'
import { assertTerm } from './leadership.js'

const at = (ms: number | null) => (ms === null ? null : new Date(ms))

/** A schedule's next tick: the first after its cursor, or null while it is paused. */
const nextRunAt = (s: ScheduleRecord, cursor: number): Date | null =>
  s.enabled ? at(nextTicks(s, cursor, cursor, 1)[0] ?? null) : null

/** $1..$13: the schedule's own fields. */
const values = (s: ScheduleRecord) => [
  s.id,
  s.name,
  s.owner,
  s.cron,
  s.every,
  s.timezone,
  s.queue,
  s.type,
  JSON.stringify(s.payload),
  JSON.stringify(s.options),
  s.catchUp,
  s.overlap,
  s.enabled,
]

function nameTaken(error: unknown, s: ScheduleRecord): unknown {
  const e = error as { code?: string; constraint?: string }
  if (e?.code === '23505' && e.constraint === 'schedules_owner_name')
    return conflict(`a schedule named '${s.name}' already exists`, { name: s.name })
  return error
}

async function databaseNow(ctx: PgContext, c: Queryable): Promise<number> {
  const [row] = await c.query<{ now: Date }>(`SELECT ${NOW(1)} AS now`, [ctx.clockNow()])
  return row!.now.getTime()
}

export async function createSchedule(ctx: PgContext, s: ScheduleRecord): Promise<Schedule> {
  return ctx
    .tx(async (c) => {
      const now = await databaseNow(ctx, c)
      const [row] = await c.query(
        `INSERT INTO schedules (id, name, owner, cron, every_ms, timezone, queue, type, payload, options,
           catch_up, overlap, enabled, tick_cursor, next_run_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $14, $14) RETURNING *`,
        [...values(s), new Date(now), nextRunAt(s, now)],
      )
      return rowToSchedule(row!, decode)
    })
    .catch((error) => {
      throw nameTaken(error, s)
    })
}

export async function updateSchedule(ctx: PgContext, id: string, change: ScheduleChange): Promise<Schedule> {
  let record: ScheduleRecord | undefined
  return ctx
    .tx(async (c) => {
      const [current] = await c.query(
        `SELECT *, ${NOW(2)} AS db_now FROM schedules WHERE id = $1 FOR UPDATE`,
        [id, ctx.clockNow()],
      )
      if (!current) throw notFound('schedule', id)
      const now = (current.db_now as Date).getTime()
      const changed = change(rowToScheduleRecord(current, decode), now)
      record = { ...changed.record, id }
      const cursor = changed.restart ? now : (current.tick_cursor as Date).getTime()
      const [row] = await c.query(
        `UPDATE schedules SET name = $2, cron = $4, every_ms = $5, timezone = $6, queue = $7, type = $8,
           payload = $9, options = $10, catch_up = $11, overlap = $12, enabled = $13, tick_cursor = $14,
           next_run_at = $15, updated_at = $16
         WHERE id = $1 AND coalesce(owner, '') = coalesce($3, '') RETURNING *`,
        [...values(record), new Date(cursor), nextRunAt(record, cursor), new Date(now)],
      )
      return rowToSchedule(row!, decode)
    })
    .catch((error) => {
      throw record ? nameTaken(error, record) : error
    })
}

export async function getSchedule(ctx: PgContext, id: string): Promise<Schedule | null> {
  const [row] = await ctx.query('SELECT * FROM schedules WHERE id = $1', [id])
  return row ? rowToSchedule(row, decode) : null
}

export async function listSchedules(
  ctx: PgContext,
  filter: { owner?: string | null; name?: string },
): Promise<Schedule[]> {
  const rows = await ctx.query(
    `SELECT * FROM schedules
     WHERE ($1::boolean IS NOT TRUE OR owner IS NOT DISTINCT FROM $2) AND ($3::text IS NULL OR name = $3)
     ORDER BY name, id`,
    [filter.owner !== undefined, filter.owner ?? null, filter.name ?? null],
  )
  return rows.map((r) => rowToSchedule(r, decode))
}

export async function deleteSchedule(ctx: PgContext, id: string): Promise<boolean> {
  return (await ctx.query('DELETE FROM schedules WHERE id = $1 RETURNING id', [id])).length > 0
}

export async function listScheduleRuns(ctx: PgContext, id: string, limit: number): Promise<ScheduleRun[]> {
  return readRuns(ctx, id, limit)
}

async function readRuns(c: Queryable, id: string, limit: number, ids?: number[]): Promise<ScheduleRun[]> {
  const rows = await c.query(
    `SELECT r.*, j.status AS job_status FROM schedule_runs r LEFT JOIN jobs j ON j.id = r.job_id
     WHERE r.schedule_id = $1 AND ($3::bigint[] IS NULL OR r.id = ANY($3)) ORDER BY r.id DESC LIMIT $2`,
    [id, limit, ids ?? null],
  )
  return rows.map((r) => rowToScheduleRun(r, decode))
}

export async function dueSchedules(ctx: PgContext, limit: number): Promise<string[]> {
  const rows = await ctx.query<{ id: string }>(
    `SELECT id FROM schedules WHERE enabled AND next_run_at IS NOT NULL AND next_run_at <= ${NOW(2)}
     ORDER BY next_run_at LIMIT $1`,
    [limit, ctx.clockNow()],
  )
  return rows.map((r) => r.id)
}

export async function fireSchedule(
  ctx: PgContext,
  id: string,
  build: BuildScheduledJob,
  params: FireParams = {},
): Promise<ScheduleRun[]> {
  return ctx.tx(async (c) => {
    await assertTerm(c, params.fence, ctx.clockNow())
    const [row] = await c.query(`SELECT *, ${NOW(2)} AS db_now FROM schedules WHERE id = $1 FOR UPDATE`, [
      id,
      ctx.clockNow(),
    ])
    if (!row) return []
    const now = (row.db_now as Date).getTime()
    const schedule = rowToScheduleRecord(row, decode)
    let ticks = [now]
    if (!params.manual) {
      const next = row.next_run_at as Date | null
      if (next === null || next.getTime() > now || !schedule.enabled) return []
      const cursor = (row.tick_cursor as Date).getTime()
      const plan = planTicks({ timing: schedule, cursor, now, catchUp: schedule.catchUp })
      await c.query('UPDATE schedules SET tick_cursor = $2, next_run_at = $3 WHERE id = $1', [
        id,
        new Date(plan.cursor),
        at(plan.nextRunAt),
      ])
      ticks = plan.ticks
    }
    const runIds: number[] = []
    for (const tick of ticks) {
      const runId = await runTick(ctx, c, schedule, tick, params.manual === true, now, build)
      if (runId !== null) runIds.push(runId)
    }
    if (runIds.length === 0) return []
    await c.query(`UPDATE schedules SET last_run_at = greatest(last_run_at, $2) WHERE id = $1`, [
      id,
      new Date(Math.max(...ticks)),
    ])
    await pruneRuns(c, id)
    return (await readRuns(c, id, runIds.length, runIds)).reverse()
  })
}

/** Writes one run: its row first (a tick already run is skipped by the unique index), then its job. */
async function runTick(
  ctx: PgContext,
  c: Queryable,
  schedule: ScheduleRecord,
  tick: number,
  manual: boolean,
  now: number,
  build: BuildScheduledJob,
): Promise<number | null> {
  const [inserted] = await c.query<{ id: number }>(
    `INSERT INTO schedule_runs (schedule_id, tick_at, manual, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING id`,
    [schedule.id, new Date(tick), manual, new Date(now)],
  )
  if (!inserted) return null
  const note = (column: 'job_id' | 'reason', value: string, skipped = false) =>
    c.query(`UPDATE schedule_runs SET ${column} = $2, skipped = $3 WHERE id = $1`, [
      inserted.id,
      value,
      skipped,
    ])
  if (schedule.overlap === 'skip' && (await previousRunLive(c, schedule.id))) {
    await note('reason', 'the previous run is still live (overlap: skip)', true)
  } else if ((await c.query('SELECT 1 FROM queues WHERE name = $1', [schedule.queue])).length === 0) {
    await note('reason', `queue '${schedule.queue}' does not exist`)
  } else {
    const { jobs } = await addInTransaction(ctx, c, [schedule.queue], (queues) => [
      build(schedule, queues.get(schedule.queue)!, tick),
    ])
    await note('job_id', jobs[0]!.id)
  }
  return inserted.id
}

/** Whether the job of the schedule's latest run that made one has work ahead of it. */
async function previousRunLive(c: Queryable, scheduleId: string): Promise<boolean> {
  const [row] = await c.query<{ live: boolean }>(
    `SELECT j.status IN ${LIVE} AS live FROM schedule_runs r JOIN jobs j ON j.id = r.job_id
     WHERE r.schedule_id = $1 ORDER BY r.id DESC LIMIT 1`,
    [scheduleId],
  )
  return row?.live === true
}

/** Keeps a schedule's newest KEPT_RUNS runs. Older ticks stay done: they are at or before the cursor. */
async function pruneRuns(c: Queryable, scheduleId: string): Promise<void> {
  await c.query(
    `DELETE FROM schedule_runs WHERE schedule_id = $1 AND id <= (
       SELECT id FROM schedule_runs WHERE schedule_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`,
    [scheduleId, KEPT_RUNS],
  )
}
