/** docket add, docket jobs … */
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import type { Command } from 'commander'
import { invalidArgument } from '../../core/errors.js'
import type { JobInput, ListJobsInput } from '../../core/options.js'
import type { Client, FileArg } from '../client.js'
import { connect, UsageError } from '../config.js'
import { type CommonFlags, duration, int, list, withConnection } from '../options.js'
import { parseDuration, print, printTable, progressBar } from '../output.js'

const MEDIA_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.md': 'text/markdown',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
}

export async function run(flags: CommonFlags, action: (client: Client) => Promise<void>): Promise<void> {
  const client = await connect(flags)
  try {
    await action(client)
  } finally {
    await client.close()
  }
}

function readPayload(arg: string | undefined, file: string | undefined): unknown {
  const text = file !== undefined ? readFileSync(file === '-' ? 0 : file, 'utf8') : arg
  if (text === undefined) return undefined
  try {
    return JSON.parse(text)
  } catch (error) {
    throw invalidArgument(`the payload is not valid JSON: ${(error as Error).message}`, [
      { path: 'payload', message: 'expected JSON' },
    ])
  }
}

const JOB_COLUMNS = ['id', 'queue', 'type', 'status', 'priority', 'attempts', 'owner', 'createdAt']

/**
 * Every option of the library's add (core/options.ts jobInput) and where
 * `docket add` takes it: an argument or its flags. The type makes a new
 * option of the library a compile error here until the CLI takes it, and
 * test/unit/cli-options.test.ts checks that each flag is one the command has.
 */
export const ADD_FLAGS = {
  queue: '<queue>',
  type: '<type>',
  payload: ['[payload]', '--payload-file'],
  id: '--id',
  priority: '--priority',
  runAt: '--run-at',
  delayMs: '--delay',
  maxAttempts: '--max-attempts',
  backoff: ['--backoff', '--backoff-delay', '--backoff-max-delay', '--backoff-jitter'],
  timeoutMs: '--timeout',
  owner: '--owner',
  group: '--group',
  capabilities: '--capabilities',
  dedupeKey: '--dedupe-key',
  dedupeMode: '--dedupe-mode',
  dedupeTtlMs: '--dedupe-ttl',
  dedupeMaxWaitMs: '--dedupe-max-wait',
  dependsOn: ['--depends-on', '--on'],
  estimatedDurationMs: '--estimated-duration',
  expiresAt: '--expires-at',
  expiresInMs: '--expires-in',
} as const satisfies Record<keyof Required<JobInput>, string | readonly string[]>

/** Every field of the library's job listing (core/options.ts listJobsInput) and the flag of `docket jobs ls` for it. */
export const LIST_FLAGS = {
  queue: '--queue',
  status: '--status',
  type: '--type',
  owner: '--owner',
  batchId: '--batch',
  fingerprint: '--fingerprint',
  id: '--id',
  search: '--search',
  where: '--where',
  count: '--count',
  limit: '--limit',
  cursor: '--cursor',
  sort: '--sort',
  order: '--order',
} as const satisfies Record<keyof Required<ListJobsInput>, string>

/** The flags of `docket add`, as Commander parses them (every value a string, the lists split). */
export interface AddFlags {
  payloadFile?: string
  id?: string
  priority?: string
  runAt?: string
  delay?: string
  maxAttempts?: number
  backoff?: string
  backoffDelay?: string
  backoffMaxDelay?: string
  backoffJitter?: string
  timeout?: string
  owner?: string
  group?: string
  capabilities?: string[]
  dedupeKey?: string
  dedupeMode?: string
  dedupeTtl?: string
  dedupeMaxWait?: string
  dependsOn?: string[]
  on?: string
  estimatedDuration?: string
  expiresAt?: string
  expiresIn?: string
}

/**
 * The library's add input from `docket add`'s arguments and flags. Only the
 * shape is made here (durations and numbers from their text); the library or
 * the server checks the values, and refuses a bad one naming its field.
 */
export function jobInputFrom(
  queue: string,
  type: string,
  payloadArg: string | undefined,
  o: AddFlags,
): JobInput {
  const input: JobInput = { queue, type }
  const payload = readPayload(payloadArg, o.payloadFile)
  if (payload !== undefined) input.payload = payload
  if (o.id !== undefined) input.id = o.id
  if (o.priority !== undefined)
    input.priority = /^\d+$/.test(o.priority) ? Number(o.priority) : (o.priority as never)
  if (o.runAt !== undefined) input.runAt = o.runAt
  if (o.delay !== undefined) input.delayMs = parseDuration(o.delay)
  if (o.maxAttempts !== undefined) input.maxAttempts = o.maxAttempts
  const backoff = {
    ...(o.backoff !== undefined ? { type: o.backoff as 'fixed' } : {}),
    ...(o.backoffDelay !== undefined ? { delayMs: parseDuration(o.backoffDelay) } : {}),
    ...(o.backoffMaxDelay !== undefined ? { maxDelayMs: parseDuration(o.backoffMaxDelay) } : {}),
    ...(o.backoffJitter !== undefined ? { jitter: Number(o.backoffJitter) } : {}),
  }
  if (Object.keys(backoff).length > 0) input.backoff = backoff
  if (o.timeout !== undefined) input.timeoutMs = o.timeout === 'none' ? null : parseDuration(o.timeout)
  if (o.owner !== undefined) input.owner = o.owner
  if (o.group !== undefined) input.group = o.group
  if (o.capabilities !== undefined) input.capabilities = o.capabilities
  if (o.dedupeKey !== undefined) input.dedupeKey = o.dedupeKey
  if (o.dedupeMode !== undefined) input.dedupeMode = o.dedupeMode as never
  if (o.dedupeTtl !== undefined) input.dedupeTtlMs = parseDuration(o.dedupeTtl)
  if (o.dedupeMaxWait !== undefined) input.dedupeMaxWaitMs = parseDuration(o.dedupeMaxWait)
  if (o.on !== undefined && o.dependsOn === undefined)
    throw new UsageError('--on says what the --depends-on jobs are waited for: give --depends-on too')
  if (o.dependsOn !== undefined)
    input.dependsOn = o.on === undefined ? o.dependsOn : o.dependsOn.map((id) => ({ id, on: o.on as never }))
  if (o.estimatedDuration !== undefined) input.estimatedDurationMs = parseDuration(o.estimatedDuration)
  if (o.expiresAt !== undefined) input.expiresAt = o.expiresAt
  if (o.expiresIn !== undefined) input.expiresInMs = parseDuration(o.expiresIn)
  return input
}

/** Follows a job until it finishes, drawing its progress; resolves with the finished job. */
async function waitFor(client: Client, id: string, quiet: boolean): Promise<Record<string, unknown>> {
  const tty = process.stderr.isTTY
  let last = ''
  for (;;) {
    const job = await client.getJob(id)
    const p = job.progress as { percent: number; step: string | null; message: string | null }
    const line = `${progressBar(p.percent)} ${job.status}${p.step ? `  ${p.step}` : ''}${p.message ? ` — ${p.message}` : ''}`
    if (!quiet && line !== last) process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`)
    last = line
    if (['completed', 'failed', 'cancelled'].includes(String(job.status))) {
      if (!quiet && tty) process.stderr.write('\n')
      return job
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** The library's job listing filter from `docket jobs ls`'s flags. */
export function listFilterFrom(o: Record<string, unknown>): ListJobsInput {
  return {
    queue: o.queue,
    status: o.status,
    type: o.type,
    owner: o.owner,
    batchId: o.batch,
    fingerprint: o.fingerprint,
    id: o.id,
    search: o.search,
    where: o.where,
    count: o.count,
    limit: o.limit,
    cursor: o.cursor,
    sort: o.sort,
    order: o.order,
  } as ListJobsInput
}

export function registerJobCommands(program: Command): void {
  withConnection(
    program
      .command('add <queue> <type> [payload]')
      .description(
        "Add a job; payload is JSON (or --payload-file, - for stdin); --file attaches input files. Every option of the library's add (docs/jobs.md); durations as 30s, 15m, 2h, 7d or milliseconds",
      )
      .option('--payload-file <path>', 'read the JSON payload from a file, or - for stdin')
      .option('--file <path>', 'attach an input file (repeatable)', (v: string, all: string[] = []) => [
        ...all,
        v,
      ])
      .option('--id <id>', "the job's id (a UUID) instead of a new one")
      .option('--priority <priority>', 'low | normal | high | urgent, or 0-100')
      .option('--delay <duration>', 'run after this long')
      .option('--run-at <date>', 'run at this ISO 8601 date-time with its offset (instead of --delay)')
      .option('--max-attempts <n>', 'attempts before it fails for good', int('--max-attempts'))
      .option('--backoff <type>', "retry backoff: fixed | exponential (default: the queue's)")
      .option('--backoff-delay <duration>', "the backoff's first delay")
      .option('--backoff-max-delay <duration>', 'the longest backoff delay')
      .option('--backoff-jitter <fraction>', 'random spread of each delay, 0 to 1')
      .option('--timeout <duration>', 'a run longer than this is aborted and fails; none: no timeout')
      .option('--owner <name>', 'who the job belongs to')
      .option('--group <name>', 'its group (a tenant, a user) for per-group limits and fair turns')
      .option('--capabilities <list>', 'capabilities a worker needs, comma-separated', list)
      .option('--dedupe-key <key>', 'a live job with this key (same queue and owner) stands for this one')
      .option(
        '--dedupe-mode <mode>',
        'with --dedupe-key: keep (the live job) | replace (its payload) | debounce',
      )
      .option(
        '--dedupe-ttl <duration>',
        'with --dedupe-key: a job with the key finished this recently also counts',
      )
      .option(
        '--dedupe-max-wait <duration>',
        'with --dedupe-mode debounce: run at most this long after the first add',
      )
      .option('--depends-on <ids>', 'comma-separated job ids to wait for', list)
      .option('--on <what>', 'what --depends-on waits for: success (the default) | completion (any outcome)')
      .option('--estimated-duration <duration>', 'how long a run is expected to take')
      .option('--expires-at <date>', 'never run unless started by this ISO 8601 date-time')
      .option('--expires-in <duration>', 'never run unless started within this long')
      .option('--wait', 'follow the job with a progress bar until it ends; exit 1 unless it completed'),
  ).action(async (queue: string, type: string, payloadArg: string | undefined, o) => {
    const input = jobInputFrom(queue, type, payloadArg, o)
    const files: FileArg[] = (o.file ?? []).map((path: string) => ({
      path,
      mediaType: MEDIA_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    }))
    await run(o, async (client) => {
      const job = await client.addJob(input, files)
      if (!o.wait) return print(o.json, job, () => console.log(String(job.id)))
      if (!o.json) console.error(`added ${job.id}`)
      const done = await waitFor(client, String(job.id), Boolean(o.json))
      print(o.json, done, () => {
        console.log(`${done.status}: ${done.id}`)
        if (done.result !== null) console.log(JSON.stringify(done.result, null, 2))
        const error = done.lastError as { message?: string } | null
        if (done.status !== 'completed' && error?.message) console.log(`error: ${error.message}`)
      })
      if (done.status !== 'completed') process.exitCode = 1
    })
  })

  const jobs = program.command('jobs').description('List, inspect and steer jobs')
  withConnection(
    jobs
      .command('ls')
      .description('List jobs, newest first; find them by id, text and payload values (docs/search.md)')
      .option('--queue <name>')
      .option('--status <list>', 'comma-separated states', list)
      .option('--type <type>')
      .option('--owner <name>')
      .option('--batch <id>')
      .option('--fingerprint <fp>', "jobs whose last error is of this class (the top errors' fingerprint)")
      .option('--id <id>', 'a job id, its first 6+ characters, or the 8-character short id')
      .option('--search <text>', 'free text: an id prefix, text in the payload, or in the last error')
      .option(
        '--where <conditions>',
        'payload conditions, e.g. \'payload.customerId = 42 and payload.tier = "gold"\'',
      )
      .option('--count', 'also count every matching job (all pages)')
      .option('--limit <n>', 'page size', int('--limit'), 50)
      .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
      .option('--sort <key>', 'createdAt | priority | runAt')
      .option('--order <order>', 'asc | desc'),
  ).action(async (o) =>
    run(o, async (client) => {
      const page = await client.listJobs(listFilterFrom(o))
      print(o.json, page, () => {
        printTable(page.jobs, JOB_COLUMNS)
        if (page.count) console.log(`${page.count.exact ? '' : 'at least '}${page.count.value} matching jobs`)
        if (page.nextCursor) console.log(`next page: --cursor ${page.nextCursor}`)
      })
    }),
  )
  withConnection(
    jobs.command('show <id>').description('A job with its steps, events, dependencies and artifacts'),
  ).action(async (id: string, o) =>
    run(o, async (client) => {
      const job = await client.getJob(id)
      print(o.json, job, () => {
        const { events, ...rest } = job as {
          events: {
            at: string
            kind: string
            status: string | null
            step: string | null
            percent: number | null
            message: string | null
          }[]
        }
        console.log(JSON.stringify(rest, null, 2))
        console.log('\nevents:')
        for (const e of events)
          console.log(
            `  ${e.at}  ${e.kind}${e.status ? ` ${e.status}` : ''}${e.step ? ` ${e.step}` : ''}${e.percent !== null ? ` ${e.percent}%` : ''}${e.message ? ` — ${e.message}` : ''}`,
          )
      })
    }),
  )
  withConnection(
    jobs
      .command('wait <id>')
      .description(
        'Wait for a job to end and print it: exit 0 when it completed, 1 when it failed or was cancelled, or when --timeout passes first (WAIT_TIMEOUT)',
      )
      .option(
        '--timeout <duration>',
        'give up after this long (30s, 15m, 2h)',
        duration('--timeout'),
        600_000,
      ),
  ).action(async (id: string, o) =>
    run(o, async (client) => {
      const job = await client.waitJob(id, o.timeout as number)
      print(o.json, job, () => {
        const outcome = job.status === 'completed' ? JSON.stringify(job.result) : JSON.stringify(job.error)
        console.log(`${String(job.status)}: ${id}  ${outcome}`)
      })
      if (job.status !== 'completed') process.exitCode = 1
    }),
  )
  for (const action of ['cancel', 'retry', 'promote', 'rm'] as const) {
    withConnection(
      jobs
        .command(`${action} <ids...>`)
        .description(`${action === 'rm' ? 'Delete' : `${action[0]!.toUpperCase()}${action.slice(1)}`} jobs`),
    ).action(async (ids: string[], o) =>
      run(o, async (client) => {
        const results: Record<string, unknown>[] = []
        for (const id of ids) results.push(await client.jobAction(id, action === 'rm' ? 'remove' : action))
        print(o.json, results, () => {
          for (const [i, r] of results.entries())
            console.log(`${ids[i]}  ${action === 'rm' ? 'deleted' : String(r.status)}`)
        })
      }),
    )
  }
}
