/**
 * The front door for schedules: validates every argument (core/schedules),
 * then calls the Store. The Docket class delegates here. Nothing is written
 * when an argument is bad: an invalid cron expression or time zone is refused
 * before the store is asked anything.
 */
import { v7 as uuidv7 } from 'uuid'
import type { Clock } from '../core/clock.js'
import { notFound } from '../core/errors.js'
import { parse } from '../core/options.js'
import { assertJsonValue, resolveJob } from '../core/resolve.js'
import {
  applyScheduleUpdate,
  nextTicks,
  resolveSchedule,
  type Schedule,
  type ScheduleCreateInput,
  type ScheduleDetail,
  type ScheduleRun,
  type ScheduleUpdateInput,
  scheduleCreateInput,
  scheduleUpdateInput,
} from '../core/schedules.js'
import type { LeaderTerm } from '../core/types.js'
import type { BuildScheduledJob, Store } from '../storage/store.js'
import { checkId } from './arguments.js'

export interface ScheduleContext {
  store: Store
  clock: Clock
  maxPayloadBytes: number
}

/** How many due schedules one maintenance pass runs at most (the rest run in the next pass). */
const DUE_PER_PASS = 500

/** A tick's job: the schedule's type, payload and job options, owned by the schedule's owner. */
const buildJob: BuildScheduledJob = (schedule, queue) =>
  resolveJob(
    {
      ...schedule.options,
      queue: schedule.queue,
      type: schedule.type,
      payload: schedule.payload,
      owner: schedule.owner,
    },
    queue,
    uuidv7(),
    null,
  )

async function assertQueueExists(ctx: ScheduleContext, queue: string): Promise<void> {
  if (!(await ctx.store.getQueue(queue))) throw notFound('queue', queue)
}

export async function createSchedule(ctx: ScheduleContext, input: ScheduleCreateInput): Promise<Schedule> {
  const valid = parse(scheduleCreateInput, input, 'schedule')
  assertJsonValue(valid.payload ?? null, 'payload', ctx.maxPayloadBytes)
  const record = resolveSchedule(valid, uuidv7(), ctx.clock.now().getTime())
  await assertQueueExists(ctx, record.queue)
  return ctx.store.createSchedule(record)
}

export async function updateSchedule(
  ctx: ScheduleContext,
  id: string,
  patch: ScheduleUpdateInput,
): Promise<Schedule> {
  const scheduleId = checkId(id, 'schedule')
  const valid = parse(scheduleUpdateInput, patch, 'schedule update')
  if (valid.payload !== undefined) assertJsonValue(valid.payload, 'payload', ctx.maxPayloadBytes)
  if (valid.queue !== undefined) await assertQueueExists(ctx, valid.queue)
  return ctx.store.updateSchedule(scheduleId, (current, now) => applyScheduleUpdate(current, valid, now))
}

export async function getSchedule(ctx: ScheduleContext, id: string): Promise<Schedule> {
  const schedule = await ctx.store.getSchedule(checkId(id, 'schedule'))
  if (!schedule) throw notFound('schedule', id)
  return schedule
}

/** A schedule with its next `next` tick times and its latest `runs` runs (newest first). */
export async function scheduleDetail(
  ctx: ScheduleContext,
  id: string,
  options: { next?: number; runs?: number } = {},
): Promise<ScheduleDetail> {
  const schedule = await getSchedule(ctx, id)
  const runs = await ctx.store.listScheduleRuns(schedule.id, clampCount(options.runs, 20, 200))
  return { ...schedule, nextRuns: upcoming(schedule, clampCount(options.next, 5, 50)), runs }
}

const clampCount = (n: number | undefined, fallback: number, max: number) =>
  Number.isInteger(n) && n! >= 0 ? Math.min(n!, max) : fallback

/** The next `n` ticks, from the stored next run (an interval's ticks fall on its grid). */
function upcoming(schedule: Schedule, n: number): Date[] {
  if (!schedule.nextRunAt || n === 0) return []
  const first = schedule.nextRunAt.getTime()
  return [first, ...nextTicks(schedule, first, first, n - 1)].map((t) => new Date(t))
}

export async function listSchedules(
  ctx: ScheduleContext,
  filter: { owner?: string | null; name?: string } = {},
): Promise<Schedule[]> {
  return ctx.store.listSchedules(filter)
}

export async function deleteSchedule(ctx: ScheduleContext, id: string): Promise<void> {
  if (!(await ctx.store.deleteSchedule(checkId(id, 'schedule')))) throw notFound('schedule', id)
}

/** Runs a schedule now, once, whatever its ticks and even while paused; the run is recorded as manual. */
export async function runSchedule(ctx: ScheduleContext, id: string): Promise<ScheduleRun> {
  const schedule = await getSchedule(ctx, id)
  const [run] = await ctx.store.fireSchedule(schedule.id, buildJob, { manual: true })
  if (!run) throw notFound('schedule', id)
  return run
}

/** Runs every due schedule (the maintenance leader's part; `fence` is its term). Returns the runs written. */
export async function runDueSchedules(ctx: ScheduleContext, fence?: LeaderTerm): Promise<ScheduleRun[]> {
  const runs: ScheduleRun[] = []
  for (const id of await ctx.store.dueSchedules(DUE_PER_PASS))
    runs.push(...(await ctx.store.fireSchedule(id, buildJob, fence ? { fence } : {})))
  return runs
}
