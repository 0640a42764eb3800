/** docket schedules ls | show | create | update | pause | resume | rm | run */
import type { Command } from 'commander'
import { invalidArgument, notFound } from '../../core/errors.js'
import { isJobId } from '../../core/options.js'
import type { ScheduleCreateInput, ScheduleUpdateInput } from '../../core/schedules.js'
import type { Client } from '../client.js'
import { type CommonFlags, withConnection } from '../options.js'
import { parseDuration, print, printTable } from '../output.js'
import { run } from './jobs.js'

type Json = Record<string, unknown>
type Flags = CommonFlags & Record<string, string | number | boolean | undefined>

const scheduleOptions = (c: Command) =>
  c
    .option(
      '--cron <expression>',
      "cron, 5 fields or 6 with seconds first, e.g. '0 3 * * *' or '*/10 * * * * *'",
    )
    .option('--every <duration>', 'a plain interval instead of cron (30s, 15m, 1h)')
    .option('--timezone <zone>', 'IANA time zone of the cron expression (default UTC)')
    .option('--queue <queue>', 'the queue its jobs go to')
    .option('--type <type>', 'the type of its jobs')
    .option('--payload <json>', 'the payload of its jobs, as JSON')
    .option('--options <json>', 'job options of its jobs as JSON, e.g. {"priority":"high","maxAttempts":5}')
    .option(
      '--catch-up <policy>',
      'ticks missed while nothing ran: none | latest (default) | all (at most 100)',
    )
    .option('--overlap <policy>', 'allow (default) | skip: no new job while the previous one is live')

function json(text: string, flag: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw invalidArgument(`${flag} is not valid JSON: ${(error as Error).message}`, [
      { path: flag.replace(/^--/, ''), message: 'expected JSON' },
    ])
  }
}

function scheduleFields(o: Flags): ScheduleUpdateInput {
  const fields: ScheduleUpdateInput = {}
  if (o.cron !== undefined) fields.cron = String(o.cron)
  if (o.every !== undefined) fields.every = parseDuration(String(o.every))
  if (o.timezone !== undefined) fields.timezone = String(o.timezone)
  if (o.queue !== undefined) fields.queue = String(o.queue)
  if (o.type !== undefined) fields.type = String(o.type)
  if (o.payload !== undefined) fields.payload = json(String(o.payload), '--payload')
  if (o.options !== undefined)
    fields.options = json(String(o.options), '--options') as ScheduleUpdateInput['options']
  if (o.catchUp !== undefined) fields.catchUp = o.catchUp as 'all'
  if (o.overlap !== undefined) fields.overlap = o.overlap as 'skip'
  return fields
}

/** A schedule named by its id, or by its name when exactly one visible schedule has it. */
async function resolveId(client: Client, ref: string): Promise<string> {
  if (isJobId(ref)) return ref
  const found = await client.listSchedules({ name: ref })
  if (found.length === 0) throw notFound('schedule', ref)
  if (found.length > 1) {
    throw invalidArgument(`${found.length} schedules are named '${ref}' (one per owner): give its id`, [
      { path: 'schedule', message: 'ambiguous name' },
    ])
  }
  return String(found[0]!.id)
}

const when = (v: unknown) => (typeof v === 'string' ? v.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-')
const timing = (s: Json) =>
  s.cron ? `${s.cron}${s.timezone ? ` (${s.timezone})` : ''}` : `every ${Number(s.every) / 1000}s`
const lastRun = (s: Json) => {
  const [latest] = (s.runs ?? []) as Json[]
  return latest ? `${when(latest.at)} ${latest.outcome}` : '-'
}

export function registerScheduleCommands(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('Cron and interval schedules that add jobs (run by the maintenance leader)')

  withConnection(schedules.command('ls').description('Schedules with their next run and last run')).action(
    async (o: CommonFlags) =>
      run(o, async (client) => {
        const list = await client.listSchedules({})
        print(o.json, list, () =>
          printTable(
            list.map((s) => ({
              ...s,
              timing: timing(s),
              status: s.enabled ? 'active' : 'paused',
              next: when(s.nextRunAt),
              last: lastRun(s),
            })),
            ['id', 'name', 'owner', 'timing', 'queue', 'type', 'status', 'next', 'last'],
          ),
        )
      }),
  )

  withConnection(
    schedules
      .command('show <schedule>')
      .description('A schedule (id or name) with its next run times and latest runs'),
  ).action(async (ref: string, o: CommonFlags) =>
    run(o, async (client) => {
      const s = await client.getSchedule(await resolveId(client, ref))
      print(o.json, s, () => {
        console.log(`${s.name}  ${timing(s)}  -> ${s.queue}/${s.type}  ${s.enabled ? 'active' : 'paused'}`)
        console.log(`next: ${((s.nextRuns ?? []) as string[]).map(when).join(', ') || '-'}`)
        printTable(
          ((s.runs ?? []) as Json[]).map((r) => ({
            ...r,
            at: when(r.at),
            kind: r.manual ? 'run now' : 'tick',
          })),
          ['at', 'kind', 'outcome', 'jobId', 'reason'],
        )
      })
    }),
  )

  withConnection(
    scheduleOptions(
      schedules
        .command('create <name>')
        .description('Create a schedule: --cron or --every, with --queue and --type'),
    )
      .option('--owner <name>', 'whose jobs it makes (a user key always makes its own)')
      .option('--paused', 'create it paused'),
  ).action(async (name: string, o: Flags) =>
    run(o, async (client) => {
      const input = { name, ...scheduleFields(o) } as ScheduleCreateInput
      if (o.owner !== undefined) input.owner = String(o.owner)
      if (o.paused) input.enabled = false
      const s = await client.createSchedule(input)
      print(o.json, s, () =>
        console.log(`created schedule ${s.name} (${s.id}), next run ${when(s.nextRunAt)}`),
      )
    }),
  )

  withConnection(
    scheduleOptions(
      schedules.command('update <schedule>').description('Change a schedule (id or name)'),
    ).option('--name <name>', 'rename it'),
  ).action(async (ref: string, o: Flags) =>
    run(o, async (client) => {
      const patch = scheduleFields(o)
      if (o.name !== undefined) patch.name = String(o.name)
      const s = await client.updateSchedule(await resolveId(client, ref), patch)
      print(o.json, s, () => console.log(`updated schedule ${s.name}, next run ${when(s.nextRunAt)}`))
    }),
  )

  for (const action of ['pause', 'resume', 'run'] as const) {
    const what = {
      pause: 'Pause a schedule',
      resume: 'Resume a schedule (ticks missed while paused are not caught up)',
      run: 'Run a schedule now, once (also while paused)',
    }[action]
    withConnection(schedules.command(`${action} <schedule>`).description(what)).action(
      async (ref: string, o: CommonFlags) =>
        run(o, async (client) => {
          const r = await client.scheduleAction(await resolveId(client, ref), action)
          print(o.json, r, () =>
            console.log(
              action === 'run'
                ? `run ${r.outcome}${r.jobId ? `: job ${r.jobId}` : ''}${r.reason ? ` (${r.reason})` : ''}`
                : `${r.name} is ${r.enabled ? 'active' : 'paused'}, next run ${when(r.nextRunAt)}`,
            ),
          )
        }),
    )
  }

  withConnection(
    schedules.command('rm <schedule>').description('Delete a schedule and its runs (its jobs stay)'),
  ).action(async (ref: string, o: CommonFlags) =>
    run(o, async (client) => {
      const id = await resolveId(client, ref)
      await client.deleteSchedule(id)
      print(o.json, { ok: true, id }, () => console.log(`deleted schedule ${ref}`))
    }),
  )
}
