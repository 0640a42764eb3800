/**
 * Sandbox benchmark (not a test): `npm run bench:sandbox`.
 *
 * What a sandboxed handler costs per attempt: no-op jobs run one at a time
 * (concurrency 1) by a handler in-process, in a worker thread and in a child
 * process, on SQLite (a temp file), so the difference is the sandbox's start
 * and stop. Also how many no-op jobs a second each mode runs at concurrency 8.
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
  await docket.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
