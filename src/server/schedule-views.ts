/** Schedules as the API returns them, with the zod schemas that check and document them. */
import { z } from 'zod'
import { CATCH_UP, OVERLAP, type Schedule, type ScheduleDetail, type ScheduleRun } from '../core/schedules.js'
import { JOB_STATUSES } from '../core/types.js'

const iso = z.string().describe('ISO 8601 date-time')

export const scheduleView = z
  .object({
    id: z.string(),
    name: z.string(),
    owner: z.string().nullable().describe('whose jobs it makes; a user key sees only its own schedules'),
    cron: z.string().nullable(),
    every: z.number().int().nullable().describe('interval in ms (instead of cron)'),
    timezone: z.string().nullable(),
    queue: z.string(),
    type: z.string(),
    payload: z.unknown(),
    options: z.record(z.string(), z.unknown()).describe('the job options of each job it makes'),
    catchUp: z.enum(CATCH_UP),
    overlap: z.enum(OVERLAP),
    enabled: z.boolean(),
    nextRunAt: iso.nullable(),
    lastRunAt: iso.nullable(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'Schedule' })

export const scheduleRunView = z
  .object({
    id: z.number().int(),
    scheduleId: z.string(),
    at: iso.describe('the tick this run is for (a run now: when it was asked for)'),
    manual: z.boolean().describe('a run now, not a tick'),
    jobId: z.string().nullable(),
    outcome: z
      .enum([...JOB_STATUSES, 'skipped', 'error', 'removed'])
      .describe("the job's status; skipped (overlap), error (no job made), removed (job deleted since)"),
    reason: z.string().nullable(),
    createdAt: iso,
  })
  .meta({ id: 'ScheduleRun' })

export const scheduleDetailView = scheduleView
  .extend({ nextRuns: z.array(iso), runs: z.array(scheduleRunView).describe('newest first') })
  .meta({ id: 'ScheduleDetail' })

const plain = (value: unknown) => JSON.parse(JSON.stringify(value))
export const scheduleJson = (s: Schedule) => plain(s) as z.infer<typeof scheduleView>
export const scheduleRunJson = (r: ScheduleRun) => plain(r) as z.infer<typeof scheduleRunView>
export const scheduleDetailJson = (s: ScheduleDetail) => plain(s) as z.infer<typeof scheduleDetailView>
