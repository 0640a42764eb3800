/** docket add, docket jobs … */
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import type { Command } from 'commander'
import { invalidArgument } from '../../core/errors.js'
import type { JobInput } from '../../core/options.js'
import type { Client, FileArg } from '../client.js'
import { connect } from '../config.js'
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

export function registerJobCommands(program: Command): void {
  withConnection(
    program
      .command('add <queue> <type> [payload]')
      .description('Add a job; payload is JSON (or --payload-file, - for stdin); --file attaches input files')
      .option('--payload-file <path>', 'read the JSON payload from a file, or - for stdin')
      .option('--file <path>', 'attach an input file (repeatable)', (v: string, all: string[] = []) => [
        ...all,
        v,
      ])
      .option('--priority <priority>', 'low | normal | high | urgent, or 0-100')
      .option('--delay <duration>', 'run after this long (30s, 15m, 2h)')
      .option('--max-attempts <n>', 'attempts before it fails for good', int('--max-attempts'))
      .option('--owner <name>', 'who the job belongs to')
      .option('--group <name>', 'its group (a tenant, a user) for per-group limits and fair turns')
      .option('--dedupe-key <key>', 'return the live job with this key instead of adding another')
      .option('--depends-on <ids>', 'comma-separated job ids to wait for', list)
      .option('--capabilities <list>', 'capabilities a worker needs, comma-separated', list)
      .option('--wait', 'follow the job with a progress bar until it ends; exit 1 unless it completed'),
  ).action(async (queue: string, type: string, payloadArg: string | undefined, o) => {
    const input: JobInput = { queue, type }
    const payload = readPayload(payloadArg, o.payloadFile)
    if (payload !== undefined) input.payload = payload
    if (o.priority !== undefined) input.priority = /^\d+$/.test(o.priority) ? Number(o.priority) : o.priority
    if (o.delay !== undefined) input.delayMs = parseDuration(o.delay)
    if (o.maxAttempts !== undefined) input.maxAttempts = o.maxAttempts
    if (o.owner !== undefined) input.owner = o.owner
    if (o.group !== undefined) input.group = o.group
    if (o.dedupeKey !== undefined) input.dedupeKey = o.dedupeKey
    if (o.dependsOn !== undefined) input.dependsOn = o.dependsOn
    if (o.capabilities !== undefined) input.capabilities = o.capabilities
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
      .description('List jobs, newest first')
      .option('--queue <name>')
      .option('--status <list>', 'comma-separated states', list)
      .option('--type <type>')
      .option('--owner <name>')
      .option('--batch <id>')
      .option('--limit <n>', 'page size', int('--limit'), 50)
      .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
      .option('--sort <key>', 'createdAt | priority | runAt')
      .option('--order <order>', 'asc | desc'),
  ).action(async (o) =>
    run(o, async (client) => {
      const page = await client.listJobs({
        queue: o.queue,
        status: o.status,
        type: o.type,
        owner: o.owner,
        batchId: o.batch,
        limit: o.limit,
        cursor: o.cursor,
        sort: o.sort,
        order: o.order,
      })
      print(o.json, page, () => {
        printTable(page.jobs, JOB_COLUMNS)
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
