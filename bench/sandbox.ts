/**
 * Sandbox benchmark (not a test): `npm run bench:sandbox`.
 *
 * What a sandboxed handler costs per attempt: no-op jobs run one at a time
 * (concurrency 1) by a handler in-process, in a worker thread and in a child
 * process, on SQLite (a temp file), so the difference is the sandbox's start
 * and stop. Also how many no-op jobs a second each mode runs at concurrency 8;
 * the heartbeats of a job whose sandboxed handler spins the CPU for 10 s
 * (heartbeatMs 1 s: how many, and the longest gap between two); and how long
 * a sandbox that outlives its timeout takes to be gone.
 * Through tsx (as every bench here is) each sandbox loads tsx too, which is
 * most of its start-up; `npm run build && BENCH_DIST=1 node bench/sandbox.ts`
 * measures the built package (plain JS), as an application runs it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type * as Library from '../src/index.js'

const { Docket, sandboxed, Worker }: typeof Library = await import(
  process.env.BENCH_DIST ? '../dist/index.js' : '../src/index.js'
)
const { liveSandboxes }: typeof import('../src/worker/sandbox.js') = await import(
  process.env.BENCH_DIST ? '../dist/worker/sandbox.js' : '../src/worker/sandbox.js'
)
type Handler = Library.Handler
type Docket = Library.Docket

const JOBS = Number(process.env.BENCH_JOBS ?? 100)
const NOOP = new URL('./fixtures/sandboxed-noop.mjs', import.meta.url)

const modes: Record<string, Handler> = {
  'in-process': () => null,
  thread: sandboxed(NOOP, { isolation: 'thread' }),
  process: sandboxed(NOOP, { isolation: 'process' }),
}

async function drain(docket: Docket, queue: string, handler: Handler, concurrency: number): Promise<number> {
  await docket.createQueue({ name: queue })
  await docket.addMany(Array.from({ length: JOBS }, (_, i) => ({ queue, type: 'noop', payload: { i } })))
  const t0 = performance.now()
  const worker = await new Worker(docket, {
    queues: [queue],
    handlers: handler,
    concurrency,
    maintenance: false,
  }).start()
  while ((await docket.countJobs(queue))[queue]!.completed < JOBS) await new Promise((r) => setTimeout(r, 20))
  const ms = performance.now() - t0
  await worker.close()
  return ms
}

/** Heartbeats of one job spinning for 10 s: the lease's expiry moves at each; sampled every 20 ms. */
async function heartbeats(
  docket: Docket,
  isolation: 'thread' | 'process',
): Promise<{ count: number; maxGapMs: number }> {
  const queue = `spin-${isolation}`
  await docket.createQueue({ name: queue })
  const handler = sandboxed(NOOP, { isolation, export: 'spin' })
  const worker = await new Worker(docket, {
    queues: [queue],
    handlers: handler,
    leaseMs: 3_000,
    heartbeatMs: 1_000,
  }).start()
  const job = await docket.add(queue, 'spin', { ms: 10_000 })
  const seen: number[] = []
  let last: number | null = null
  for (;;) {
    const j = await docket.getJob(job.id)
    if (j.status !== 'active' && j.status !== 'waiting') break
    const expiry = j.lease?.expiresAt.getTime() ?? null
    if (expiry !== null && expiry !== last) {
      if (last !== null) seen.push(performance.now())
      last = expiry
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  await worker.close()
  const gaps = seen.slice(1).map((t, i) => t - seen[i]!)
  return { count: seen.length, maxGapMs: Math.round(Math.max(...gaps)) }
}

/** From a sandboxed job's timeout to its sandbox being gone. */
async function timeoutToGone(docket: Docket, isolation: 'thread' | 'process'): Promise<number> {
  const queue = `timeout-${isolation}`
  await docket.createQueue({ name: queue, maxAttempts: 1 })
  const handler = sandboxed(NOOP, { isolation, export: 'spinForever' })
  const worker = await new Worker(docket, { queues: [queue], handlers: handler, pollMs: 20 }).start()
  const job = await docket.add(queue, 'spin', {}, { timeoutMs: 1_000 })
  let deadline: number | null = null
  let ms = 0
  for (;;) {
    if (deadline === null && liveSandboxes().some((s) => s.jobId === job.id))
      deadline = performance.now() + 1_000
    if (deadline !== null && !liveSandboxes().some((s) => s.jobId === job.id)) {
      ms = performance.now() - deadline
      break
    }
    await new Promise((r) => setTimeout(r, 2))
  }
  await worker.close()
  return Math.max(0, Math.round(ms))
}

const dir = mkdtempSync(join(tmpdir(), 'docket-bench-sandbox-'))
try {
  const docket = await Docket.open(join(dir, 'bench.db'))
  console.log(`${JOBS} no-op jobs per run, SQLite\n`)
  console.log('| mode | one at a time: ms per job | concurrency 8: jobs/s |')
  console.log('| --- | ---: | ---: |')
  for (const [mode, handler] of Object.entries(modes)) {
    const serial = await drain(docket, `serial-${mode}`, handler, 1)
    const parallel = await drain(docket, `parallel-${mode}`, handler, 8)
    console.log(`| ${mode} | ${(serial / JOBS).toFixed(1)} | ${Math.round((JOBS / parallel) * 1000)} |`)
  }
  console.log('\n| isolation | heartbeats while spinning 10 s (every 1 s) | longest gap | timeout → gone |')
  console.log('| --- | ---: | ---: | ---: |')
  for (const isolation of ['thread', 'process'] as const) {
    const beats = await heartbeats(docket, isolation)
    const gone = await timeoutToGone(docket, isolation)
    console.log(`| ${isolation} | ${beats.count} | ${beats.maxGapMs} ms | ${gone} ms |`)
  }
  await docket.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
