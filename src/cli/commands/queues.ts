/** docket queues …, batches …, workers, stats */
import type { Command } from 'commander'
import type { QueueCreateInput, QueueUpdateInput } from '../../core/options.js'
import { type CommonFlags, int, withConnection } from '../options.js'
import { parseDuration, print, printTable } from '../output.js'
import { run } from './jobs.js'

type Json = Record<string, unknown>

const queueOptions = (c: Command) =>
  c
    .option('--mode <mode>', 'automatic | manual')
    .option('--concurrency <n>', 'most active jobs across all workers ("none" for no limit)')
    .option('--ordering <ordering>', 'priority | fifo')
    .option('--max-attempts <n>', 'default attempts per job', int('--max-attempts'))
    .option('--timeout <duration>', 'default job timeout (30s, 10m)')
    .option('--retention <duration>', 'delete finished jobs older than this (7d)')
    .option('--description <text>')
    .option(
      '--rate-limit <max/interval>',
      'at most max starts per interval across all workers, e.g. 100/1s; 10/1s/group for a budget per group ("none" to clear)',
    )
    .option('--group-concurrency <n>', 'most active jobs per group across all workers ("none" for no limit)')
    .option('--fair', 'claims take turns between groups (round-robin)')
    .option('--no-fair', 'claims follow the queue order alone')
    .option('--group-by-owner', "a job's group is its owner's name (a --group given is ignored)")
    .option('--no-group-by-owner', 'a job has the group it names, or none')

function queueFields(o: Record<string, string | number | boolean | undefined>): QueueUpdateInput {
  const fields: QueueUpdateInput = {}
  if (o.mode !== undefined) fields.mode = o.mode as 'automatic'
  if (o.concurrency !== undefined)
    fields.concurrency = o.concurrency === 'none' ? null : Number(o.concurrency)
  if (o.ordering !== undefined) fields.ordering = o.ordering as 'fifo'
  if (o.maxAttempts !== undefined) fields.maxAttempts = Number(o.maxAttempts)
  if (o.timeout !== undefined) fields.timeoutMs = parseDuration(String(o.timeout))
  if (o.retention !== undefined) fields.retentionMs = parseDuration(String(o.retention))
  if (o.description !== undefined) fields.description = String(o.description)
  if (o.rateLimit !== undefined) fields.rateLimit = parseRateLimit(String(o.rateLimit))
  if (o.groupConcurrency !== undefined)
    fields.groupConcurrency = o.groupConcurrency === 'none' ? null : Number(o.groupConcurrency)
  if (o.fair !== undefined) fields.fair = Boolean(o.fair)
  if (o.groupByOwner !== undefined) fields.groupByOwner = Boolean(o.groupByOwner)
  return fields
}

/** '100/1s' (max per interval) as { max, intervalMs }; 'none' clears the limit. */
function parseRateLimit(text: string): QueueUpdateInput['rateLimit'] {
  if (text === 'none') return null
  const m = /^(\d+)\/([^/]+)(\/group)?$/.exec(text.trim())
  if (!m)
    throw new Error(`--rate-limit expects max/interval such as 100/1s or 10/1m/group, or none; not '${text}'`)
  return { max: Number(m[1]), intervalMs: parseDuration(m[2]!), ...(m[3] ? { per: 'group' as const } : {}) }
}

const rateLine = (q: Json) => {
  const r = q.rateLimit as { max: number; intervalMs: number; per?: string } | null | undefined
  return r ? `${r.max}/${r.intervalMs}ms${r.per ? `/${r.per}` : ''}` : null
}

const countsLine = (q: Json) => {
  const c = (q.counts ?? {}) as Record<string, number>
  return ['waiting', 'active', 'scheduled', 'held', 'blocked', 'completed', 'failed']
    .map((s) => `${s[0]}${c[s] ?? 0}`)
    .join(' ')
}

export function registerQueueCommands(program: Command): void {
  const queues = program.command('queues').description('List, create and steer queues')
  withConnection(queues.command('ls').description('Queues with their counts by state')).action(
    async (o: CommonFlags) =>
      run(o, async (client) => {
        const list = await client.listQueues()
        print(o.json, list, () =>
          printTable(
            list.map((q) => ({ ...q, counts: countsLine(q), rate: rateLine(q) })),
            ['name', 'status', 'mode', 'concurrency', 'rate', 'ordering', 'counts'],
          ),
        )
      }),
  )
  withConnection(queueOptions(queues.command('create <name>').description('Create a queue'))).action(
    async (name: string, o) =>
      run(o, async (client) => {
        const q = await client.createQueue({ name, ...queueFields(o) } as QueueCreateInput)
        print(o.json, q, () => console.log(`created queue ${q.name}`))
      }),
  )
  withConnection(
    queueOptions(queues.command('update <name>').description('Change a queue’s settings')),
  ).action(async (name: string, o) =>
    run(o, async (client) => {
      const q = await client.updateQueue(name, queueFields(o))
      print(o.json, q, () => console.log(`updated queue ${q.name}`))
    }),
  )
  for (const action of ['pause', 'resume'] as const) {
    withConnection(
      queues.command(`${action} <name>`).description(`${action === 'pause' ? 'Pause' : 'Resume'} a queue`),
    ).action(async (name: string, o: CommonFlags) =>
      run(o, async (client) => {
        const q = await client.setQueueStatus(name, action)
        print(o.json, q, () => console.log(`${q.name} is ${q.status}`))
      }),
    )
  }

  const batches = program.command('batches').description('Inspect and steer batches')
  withConnection(batches.command('show <id>').description('A batch: counts by state and progress')).action(
    async (id: string, o: CommonFlags) =>
      run(o, async (client) => {
        const b = await client.getBatch(id)
        print(o.json, b, () =>
          console.log(`${b.id}  ${b.name ?? ''}  ${b.progress}%  ${JSON.stringify(b.counts)}`),
        )
      }),
  )
  for (const action of ['cancel', 'retry'] as const) {
    withConnection(
      batches
        .command(`${action} <id>`)
        .description(
          action === 'cancel' ? 'Cancel unfinished jobs of a batch' : 'Retry failed jobs of a batch',
        ),
    ).action(async (id: string, o: CommonFlags) =>
      run(o, async (client) => {
        const r = await client.batchAction(id, action)
        print(o.json, r, () =>
          console.log(`${action === 'cancel' ? 'cancelled' : 'retried'} ${r.changed} jobs`),
        )
      }),
    )
  }

  withConnection(
    program.command('workers').description('Workers with kind, capabilities, load and heartbeat age'),
  ).action(async (o: CommonFlags) =>
    run(o, async (client) => {
      const list = await client.listWorkers()
      print(o.json, list, () =>
        printTable(
          list.map((w) => ({ ...w, heartbeat: `${Math.round(Number(w.heartbeatAgeMs) / 1000)}s ago` })),
          ['id', 'status', 'kind', 'capabilities', 'load', 'concurrency', 'heartbeat'],
        ),
      )
    }),
  )
  withConnection(
    program.command('stats [queue]').description('Counts, throughput, failure rate and timings'),
  ).action(async (queue: string | undefined, o: CommonFlags) =>
    run(o, async (client) => {
      const s = await client.stats(queue)
      print(o.json, s, () => {
        const h = s.lastHour as Json
        console.log(`counts: ${JSON.stringify(s.counts)}`)
        console.log(
          `last hour: ${h.completed} completed, ${h.failed} failed, ${h.throughputPerMinute}/min, failure rate ${h.failureRate ?? '-'}`,
        )
        console.log(`wait ms ${JSON.stringify(h.waitMs)}  run ms ${JSON.stringify(h.runMs)}`)
      })
    }),
  )
}
