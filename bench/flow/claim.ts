/**
 * Claim latency of group-limited queues against a plain one (issue 14):
 * 1,000 groups x 100 waiting jobs (100,000 jobs) in each, then N single
 * claims timed one at a time, each completed before the next (so the backlog
 * stays ~100,000). The queues: plain; fair with groupConcurrency 1; not fair
 * with groupConcurrency 1 (the claim walks the queue's order past full
 * groups); and that one again with 500 of its groups busy (a job of each
 * held active meanwhile), so each claim passes over their waiting jobs.
 */
import { Docket } from '../../src/index.js'
import { log } from '../lib/context.js'
import { median, num, percentile } from '../lib/stats.js'
import { int } from './settings.js'

const GROUPS = int('BENCH_FLOW_GROUPS', 1_000)
const PER_GROUP = int('BENCH_FLOW_PER_GROUP', 100)
const CLAIMS = int('BENCH_FLOW_CLAIMS', 200)
const WARMUP = 10
const CHUNK = 10_000
const BUSY_GROUPS = 500

export interface ClaimFigure {
  driver: string
  queue: 'plain' | 'fair' | 'limited' | 'limited, 500 groups busy'
  jobs: number
  median: number
  p99: number
}

/** Adds the jobs round-robin over the groups (as tenants would add them), in chunks of addMany. */
async function fill(docket: Docket, queue: string, rules: string): Promise<number> {
  const total = GROUPS * PER_GROUP
  const t0 = performance.now()
  for (let from = 0; from < total; from += CHUNK) {
    const n = Math.min(CHUNK, total - from)
    await docket.addMany(
      Array.from({ length: n }, (_, i) => ({
        queue,
        type: 'noop',
        payload: {},
        // The plain queue's jobs carry groups too, so the two backlogs differ only in the queue's rules.
        group: `g${(from + i) % GROUPS}`,
      })),
    )
  }
  log(
    `  ${queue}: ${num(total)} jobs added in ${num((performance.now() - t0) / 1000)} s${rules ? ` (${rules})` : ''}`,
  )
  return total
}

async function timeClaims(docket: Docket, queue: string): Promise<{ median: number; p99: number }> {
  const samples: number[] = []
  for (let i = 0; i < CLAIMS + WARMUP; i++) {
    const t0 = performance.now()
    const [job] = await docket.workers.claim({ workerId: 'flow-bench', queues: [queue], limit: 1 })
    if (i >= WARMUP) samples.push(performance.now() - t0)
    if (!job) throw new Error(`${queue}: a claim found nothing`)
    await docket.workers.complete(job, null)
  }
  return { median: median(samples), p99: percentile(samples, 0.99) }
}

export async function claimLatency(driver: string, url: string): Promise<ClaimFigure[]> {
  const docket = await Docket.open(url)
  const out: ClaimFigure[] = []
  try {
    await docket.createQueue({ name: 'plain' })
    await docket.createQueue({ name: 'fair', fair: true, groupConcurrency: 1 })
    await docket.createQueue({ name: 'limited', groupConcurrency: 1 })
    // Every backlog first, so every queue is timed against the same table.
    const jobs = {
      plain: await fill(docket, 'plain', ''),
      fair: await fill(docket, 'fair', 'fair, groupConcurrency 1'),
      limited: await fill(docket, 'limited', 'groupConcurrency 1, not fair'),
    }
    await analyze(url)
    const time = async (queue: string, label: ClaimFigure['queue'], jobCount: number) => {
      const r = await timeClaims(docket, queue)
      log(`  ${driver} ${label}: claim median ${num(r.median)} ms, p99 ${num(r.p99)} ms`)
      out.push({ driver, queue: label, jobs: jobCount, ...r })
    }
    for (const queue of ['plain', 'fair', 'limited'] as const) await time(queue, queue, jobs[queue])
    const busy = await docket.workers.claim({
      workerId: 'flow-bench-busy',
      queues: ['limited'],
      limit: BUSY_GROUPS,
    })
    if (busy.length !== BUSY_GROUPS)
      throw new Error(`limited: ${busy.length} of ${BUSY_GROUPS} groups made busy`)
    await time('limited', 'limited, 500 groups busy', jobs.limited)
    for (const job of busy) await docket.workers.complete(job, null)
  } finally {
    await docket.close()
  }
  return out
}

/** Fresh statistics, as autovacuum would have them by the time 100,000 jobs waited. */
async function analyze(url: string): Promise<void> {
  const { openSql } = await import('../lib/sql.js')
  const sql = await openSql(url)
  try {
    await sql.all(url.startsWith('postgres') ? 'VACUUM ANALYZE jobs' : 'ANALYZE')
  } finally {
    await sql.close()
  }
}
