/**
 * Schedules: what one is, what callers may pass, and the pure decision of
 * which ticks to run (planTicks). The maintenance leader runs due schedules;
 * a driver reads the schedule under a lock, asks planTicks, and writes one
 * run row per tick (unique per schedule and tick time) with its job, in one
 * transaction, so each tick makes its job exactly once.
 */
import { z } from 'zod'
import { checkTiming, type Timing, tickClock } from './cron.js'
import { invalidArgument } from './errors.js'
import { jobInput, label, queueName } from './options.js'
import type { JobStatus } from './types.js'

export const CATCH_UP = ['none', 'latest', 'all'] as const
export type CatchUp = (typeof CATCH_UP)[number]
export const OVERLAP = ['allow', 'skip'] as const
export type Overlap = (typeof OVERLAP)[number]

/** `catchUp: 'all'` runs at most this many missed ticks (the latest ones). */
export const MAX_CATCH_UP = 100
/** With `catchUp: 'none'`, a tick this late or less still runs: it is due now, not missed. */
export const ON_TIME_MS = 30_000
/** The shortest `every`. */
export const MIN_EVERY_MS = 1_000
/** How many runs each schedule keeps (older ones are deleted as new ones are written). */
export const KEPT_RUNS = 200

/**
 * The options of each job a schedule makes: the job options, without those
 * that cannot repeat (an id, a fixed run time, dependencies) or that the
 * schedule decides (its owner).
 */
export const scheduleJobOptions = z
  .strictObject(jobInput.shape)
  .omit({ queue: true, type: true, payload: true, id: true, runAt: true, dependsOn: true, owner: true })
export type ScheduleJobOptions = z.infer<typeof scheduleJobOptions>

const cron = z.string().trim().min(1).max(200)
const every = z
  .number()
  .int()
  .min(MIN_EVERY_MS, `expected at least ${MIN_EVERY_MS} ms`)
  .max(366 * 24 * 3600 * 1000)
const timezone = z.string().min(1).max(100)

const scheduleFields = {
  cron: cron.nullable().optional(),
  every: every.nullable().optional(),
  timezone: timezone.nullable().optional(),
  queue: queueName,
  type: label,
  payload: z.unknown().optional(),
  options: scheduleJobOptions.optional(),
  catchUp: z.enum(CATCH_UP).optional(),
  overlap: z.enum(OVERLAP).optional(),
  enabled: z.boolean().optional(),
}

export const scheduleCreateInput = z.strictObject({
  name: label,
  /** Whose jobs the schedule makes (and who sees it); the HTTP API sets it from the key. */
  owner: label.nullable().optional(),
  ...scheduleFields,
})
export const scheduleUpdateInput = z.strictObject({
  name: label.optional(),
  ...scheduleFields,
  queue: queueName.optional(),
  type: label.optional(),
})
export type ScheduleCreateInput = z.input<typeof scheduleCreateInput>
export type ScheduleUpdateInput = z.input<typeof scheduleUpdateInput>

export interface ScheduleRecord extends Timing {
  id: string
  name: string
  owner: string | null
  queue: string
  type: string
  payload: unknown
  options: ScheduleJobOptions
  catchUp: CatchUp
  overlap: Overlap
  enabled: boolean
}

export interface Schedule extends ScheduleRecord {
  /** The next tick, or null while paused (or when the expression never fires again). */
  nextRunAt: Date | null
  /** The tick time of the latest run (or run now), if any. */
  lastRunAt: Date | null
  createdAt: Date
  updatedAt: Date
}

/** What became of a run: its job's status, or why there is no job. */
export type RunOutcome = JobStatus | 'skipped' | 'error' | 'removed'

export interface ScheduleRun {
  id: number
  scheduleId: string
  /** The tick this run is for (for a run now: when it was asked for). */
  at: Date
  /** Asked for by hand (run now), not a tick. */
  manual: boolean
  jobId: string | null
  outcome: RunOutcome
  /** Why it was skipped or failed to make its job. */
  reason: string | null
  createdAt: Date
}

export interface ScheduleDetail extends Schedule {
  /** The next few tick times (none while paused). */
  nextRuns: Date[]
  /** The latest runs, newest first. */
  runs: ScheduleRun[]
}

/** A timing must be cron or every (one of them), and a time zone only goes with cron. */
function checkTimingShape(t: Timing): void {
  if ((t.cron === null) === (t.every === null)) {
    throw invalidArgument('a schedule needs either cron or every (not both)', [
      { path: t.cron === null ? 'cron' : 'every', message: 'give cron or every, exactly one' },
    ])
  }
  if (t.timezone !== null && t.cron === null) {
    throw invalidArgument('timezone only applies to cron', [{ path: 'timezone', message: 'only with cron' }])
  }
}

type CreateParsed = z.infer<typeof scheduleCreateInput>
type UpdateParsed = z.infer<typeof scheduleUpdateInput>

/** A new schedule's record, checked (cron, time zone) against `now`. */
export function resolveSchedule(input: CreateParsed, id: string, now: number): ScheduleRecord {
  const record: ScheduleRecord = {
    id,
    name: input.name,
    owner: input.owner ?? null,
    cron: input.cron ?? null,
    every: input.every ?? null,
    timezone: input.timezone ?? null,
    queue: input.queue,
    type: input.type,
    payload: input.payload === undefined ? null : input.payload,
    options: input.options ?? {},
    catchUp: input.catchUp ?? 'latest',
    overlap: input.overlap ?? 'allow',
    enabled: input.enabled ?? true,
  }
  checkTimingShape(record)
  checkTiming(record, now)
  return record
}

/**
 * A schedule after an update, and whether its ticks start afresh from now:
 * when its timing changed or it was resumed, ticks before now are not
 * caught up (a paused schedule missed nothing).
 */
export function applyScheduleUpdate(
  current: ScheduleRecord,
  patch: UpdateParsed,
  now: number,
): { record: ScheduleRecord; restart: boolean } {
  const timing: Timing = {
    cron: patch.cron !== undefined ? patch.cron : patch.every != null ? null : current.cron,
    every: patch.every !== undefined ? patch.every : patch.cron != null ? null : current.every,
    timezone: patch.timezone !== undefined ? patch.timezone : patch.every != null ? null : current.timezone,
  }
  const record: ScheduleRecord = {
    ...current,
    ...timing,
    name: patch.name ?? current.name,
    queue: patch.queue ?? current.queue,
    type: patch.type ?? current.type,
    payload: patch.payload !== undefined ? patch.payload : current.payload,
    options: patch.options ?? current.options,
    catchUp: patch.catchUp ?? current.catchUp,
    overlap: patch.overlap ?? current.overlap,
    enabled: patch.enabled ?? current.enabled,
  }
  checkTimingShape(record)
  const retimed =
    record.cron !== current.cron || record.every !== current.every || record.timezone !== current.timezone
  if (retimed) checkTiming(record, now)
  return { record, restart: retimed || (record.enabled && !current.enabled) }
}

export interface TickPlanInput {
  timing: Timing
  /** Ticks at or before this were handled already (the latest tick run, or when the schedule started). */
  cursor: number
  now: number
  catchUp: CatchUp
}

export interface TickPlan {
  /** The tick times to run now, oldest first. */
  ticks: number[]
  /** The new cursor: the latest tick due, run or not. */
  cursor: number
  /** The first tick after now. */
  nextRunAt: number | null
}

/**
 * Which ticks to run at `now`, given the last one handled: every tick in
 * (cursor, now] is due; `catchUp` says which of them run:
 * - `none`: only the latest, and only if it is at most ON_TIME_MS late;
 * - `latest`: the latest, however late (missed ones collapse into one run);
 * - `all`: each of them, the latest MAX_CATCH_UP at most.
 * An interval's ticks count from the cursor (cursor + k × every).
 */
export function planTicks(input: TickPlanInput): TickPlan {
  const { timing, cursor, now, catchUp } = input
  const clock = tickClock(timing, cursor)
  const due = clock.latestBetween(cursor, now, catchUp === 'all' ? MAX_CATCH_UP : 1)
  const latest = due[due.length - 1]
  const nextRunAt = clock.after(Math.max(now, cursor))
  if (latest === undefined) return { ticks: [], cursor, nextRunAt }
  const ticks = catchUp === 'none' && now - latest > ON_TIME_MS ? [] : due
  return { ticks, cursor: latest, nextRunAt }
}

/** The next `n` tick times after `from` (for display), counting an interval from `cursor`. */
export function nextTicks(timing: Timing, cursor: number, from: number, n: number): number[] {
  const clock = tickClock(timing, cursor)
  const out: number[] = []
  let t = Math.max(from, cursor)
  while (out.length < n) {
    const next = clock.after(t)
    if (next === null) break
    out.push(next)
    t = next
  }
  return out
}

/** The outcome of a run from what the database holds: the run's note, and its job's status if the job is still there. */
export function runOutcome(skipped: boolean, jobId: string | null, jobStatus: JobStatus | null): RunOutcome {
  if (skipped) return 'skipped'
  if (jobId === null) return 'error'
  return jobStatus ?? 'removed'
}
