/**
 * `npm run bench`: Docket side by side with graphile-worker, pg-boss,
 * sidequest, BullMQ and plainjob, on this machine, in one run; every system
 * at the common 10 jobs in flight and at its best documented setting. Installs the peers into
 * bench/peers (its own lockfile), measures, writes bench/results/latest.json,
 * and rewrites the generated part of docs/benchmarks.md and its chart.
 *
 * For a quick look: BENCH_ONLY=throughput,pickup,limits,growth picks parts,
 * BENCH_SYSTEMS=docket-postgres,pg-boss-best picks rows (ids in systems/index.ts), and BENCH_JOBS,
 * BENCH_REPS, BENCH_GROWTH_ROWS, ... lower the counts (see lib/context.ts).
 * A partial run prints its figures but leaves the docs alone.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { buildChild } from './lib/build-child.js'
import { Child } from './lib/children.js'
import { describeMachine, elapsed, log, pgUrl, redisAddress, redisAnswers, settings } from './lib/context.js'
import { ensurePeersInstalled, peerVersion } from './lib/peers.js'
import type { Results } from './lib/results.js'
import { writeDocs } from './report/docs.js'
import { runGrowth } from './sections/growth.js'
import { runLimits } from './sections/limits.js'
import { PICKUP_PLAN, runPickup } from './sections/pickup.js'
import { runThroughput } from './sections/throughput.js'
import { SUPPLEMENTARY, systemConfigs } from './systems/index.js'
import type { SystemConfig, SystemId } from './systems/types.js'

const PARTS = ['throughput', 'pickup', 'limits', 'growth'] as const
const only = process.env.BENCH_ONLY?.split(',') ?? [...PARTS]
const onlySystems = process.env.BENCH_SYSTEMS?.split(',') as SystemId[] | undefined
const ROOT = join(import.meta.dirname, '..')

async function main(): Promise<void> {
  log('Docket side-by-side benchmark (npm run bench)')
  ensurePeersInstalled(log)
  await buildChild(log)
  const redis = await redisAnswers(redisAddress)
  const sqliteVersion = (
    new Database(':memory:').prepare('SELECT sqlite_version() AS v').get() as { v: string }
  ).v
  const tmpDir = mkdtempSync(join(tmpdir(), 'docket-bench-'))
  const configs = systemConfigs({ tmpDir, pgUrl, redis: redis ? redisAddress : null }).filter(
    (c) => !onlySystems || onlySystems.includes(c.id),
  )
  const results: Results = {
    startedAt: new Date().toISOString(),
    command: 'npm run bench',
    runtimeSeconds: 0,
    machine: await describeMachine(redis, sqliteVersion),
    versions: versions(),
    settings: {
      ...settings,
      pickupGapMs: PICKUP_PLAN.gapMs,
      pickupJitterMs: PICKUP_PLAN.jitterMs,
      pickupWarmup: PICKUP_PLAN.warmup,
      pickupCapMs: PICKUP_PLAN.capMs,
    },
    notes: [],
    systems: configs.map((c) => c.id),
    bulkAdd: {},
    throughput: {},
    perJob: {},
    capped: {},
    memoryMb: {},
    baselineMb: null,
    pickup: {},
    limits: { pg1: [], pg8: [], sqlite: [], hot100x1: [], hot100x8: [], cycle100x1: [], cycle100x2: [] },
    growth: {},
    timings: {},
  }
  if (!redis) {
    const note = `BullMQ skipped: no Redis answered PING at ${redisAddress}.`
    results.notes.push(note)
    log(note)
  }
  log(
    `machine: ${results.machine.cpus} x ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}, PostgreSQL ${results.machine.postgres}`,
  )
  log(
    `systems: ${configs.map((c) => c.id).join(', ')}; ${settings.jobs} jobs, ${settings.reps} repetitions, concurrency ${settings.concurrency}`,
  )

  try {
    const part = async (name: (typeof PARTS)[number], title: string, fn: () => Promise<void>) => {
      if (!only.includes(name)) return
      const start = elapsed()
      log(`${title}`)
      try {
        await fn()
      } catch (error) {
        // One part that fails must not take the others' figures with it: say so, and go on.
        const message = `${title}: ${(error as Error).message.split('\n')[0]}`
        results.notes.push(`Failed part: ${message}`)
        log(`  FAILED ${message}`)
      }
      results.timings[name] = elapsed() - start
      log(`${title}: done in ${Math.round(results.timings[name])} s`)
    }
    await part(
      'throughput',
      '1, 2, 4. bulk add, processing with 1 and 2 worker processes, worker RSS',
      async () => {
        results.baselineMb = await baselineRss(configs[0]!)
        await runThroughput(configs, results)
      },
    )
    await part('pickup', '3. pickup latency', () =>
      runPickup(
        configs.filter((c) => !SUPPLEMENTARY.has(c.id)),
        results,
      ),
    )
    await part(
      'limits',
      '5. the physical limit: pgbench single-row and 100-row updates, a bare claim/complete cycle, SQLite commits/s',
      () => runLimits(results, tmpDir),
    )
    await part('growth', "6. growth: Docket's claim latency with 10k vs 1M finished jobs", () =>
      runGrowth(results, tmpDir),
    )
  } finally {
    rmSync(tmpDir, { recursive: true, force: true })
  }

  results.runtimeSeconds = elapsed()
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
  const complete = only.length === PARTS.length && !onlySystems
  const file = join(ROOT, 'bench', 'results', complete ? 'latest.json' : 'partial.json')
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
  log(`results: ${file}`)
  if (complete) {
    const written = await writeDocs(results, ROOT)
    for (const w of written) log(`wrote ${w}`)
  } else {
    log('a partial run: docs/benchmarks.md left as it was')
  }
  log(
    `total runtime ${Math.floor(results.runtimeSeconds / 60)} min ${Math.round(results.runtimeSeconds % 60)} s`,
  )
}

/** Peak RSS of a worker process that loads no queue at all: what Node costs by itself. */
async function baselineRss(config: SystemConfig): Promise<number> {
  const child = new Child({ mode: 'baseline', system: config, settings: { concurrency: 1, pollMs: 1000 } })
  const { maxRssKb } = await child.next('baseline', 30_000)
  return maxRssKb / 1024
}

function versions(): Record<string, string> {
  const own = (name: string) => {
    try {
      return peerVersion(name)
    } catch {
      return 'not installed'
    }
  }
  const root = (name: string) =>
    JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string
  let commit = ''
  try {
    commit = ` (${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()})`
  } catch {}
  return {
    docket: `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}${commit}`,
    'better-sqlite3': root('better-sqlite3'),
    pg: root('pg'),
    'graphile-worker': own('graphile-worker'),
    'pg-boss': own('pg-boss'),
    bullmq: own('bullmq'),
    ioredis: own('ioredis'),
    plainjob: own('plainjob'),
    sidequest: own('sidequest'),
    '@sidequest/postgres-backend': own('@sidequest/postgres-backend'),
  }
}

await main()
