/**
 * Remote-worker benchmark (not a test): `npm run bench:remote`.
 *
 * A `docket serve` process (SQLite in a temp file; PostgreSQL at
 * DOCKET_BENCH_PG_URL, else postgres://postgres@127.0.0.1:5432/test, in a
 * throwaway schema), N no-op jobs added in bulk, then one worker process
 * drains them, timed from its start to the last completion:
 *
 *   python, batched    docket_client's Worker, concurrency 10: completions ride on the
 *                      claims (and POST /jobs/complete), keep-alive connections
 *   python, per job    the same with batch_completions=False: one complete call per job
 *   library worker     the TypeScript Worker at concurrency 10 in its own process,
 *                      straight on the database (no HTTP), for comparison
 *
 * BENCH_JOBS (default 10,000), BENCH_REPS (3), BENCH_DRIVERS (sqlite,postgres),
 * BENCH_ROWS (python-batched,python-per-job,library).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import pg from 'pg'
import { Docket } from '../src/index.js'
import { createKey } from '../src/server/auth.js'
import { median } from './lib/stats.js'

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000)
const REPS = Number(process.env.BENCH_REPS ?? 3)
const DRIVERS = (process.env.BENCH_DRIVERS ?? 'sqlite,postgres').split(',')
const ROWS = (process.env.BENCH_ROWS ?? 'python-batched,python-per-job,library').split(',')
const CONCURRENCY = 10
const root = join(import.meta.dirname, '..')

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** `docket serve` on a free port; resolves once /ready answers. */
async function startServer(db: string): Promise<{ url: string; child: ChildProcess }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'serve',
      '--db',
      db,
      '--port',
      String(port),
      '--log-level',
      'warn',
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  )
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/ready`)).ok) return { url, child }
    } catch {}
    await sleep(100)
  }
  throw new Error('docket serve did not start')
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  await new Promise((r) => {
    child.once('exit', r)
    child.kill('SIGTERM')
  })
}

/** Starts a worker process; resolves with a function that lets it go, once it says it is ready. */
async function startWorker(row: string, db: string, url: string, key: string, queue: string) {
  if (row === 'library') {
    const child = fork(join(import.meta.dirname, 'worker-process.ts'), [db, queue, String(CONCURRENCY)], {
      execArgv: ['--import', 'tsx'],
    })
    await new Promise((r) => child.once('message', r))
    return { go: () => child.send('go'), stop: () => stop(child) }
  }
  const batch = row === 'python-batched' ? '1' : '0'
  const child = spawn(
    'python3',
    [join(root, 'bench', 'python-worker.py'), url, key, queue, String(CONCURRENCY), batch],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  const lines = createInterface({ input: child.stdout! })
  await new Promise<void>((resolve) => lines.once('line', () => resolve()))
  return {
    go: () => child.stdin!.write('go\n'),
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r))
      child.stdin!.end()
      await exited
    },
  }
}

async function once(
  row: string,
  db: string,
  docket: Docket,
  url: string,
  key: string,
  rep: number,
): Promise<number> {
  const queue = `${row}-${rep}`
  await docket.createQueue({ name: queue })
  for (let i = 0; i < JOBS; i += 1000)
    await docket.addMany(Array.from({ length: Math.min(1000, JOBS - i) }, () => ({ queue, type: 'noop' })))
  const worker = await startWorker(row, db, url, key, queue)
  const t0 = performance.now()
  worker.go()
  for (;;) {
    const counts = (await docket.countJobs(queue))[queue]!
    if (counts.completed === JOBS) break
    await sleep(20)
  }
  const seconds = (performance.now() - t0) / 1000
  await worker.stop()
  return JOBS / seconds
}

async function bench(driver: string, db: string): Promise<void> {
  const docket = await Docket.open(db)
  const { key } = await createKey(docket, 'bench', 'worker')
  const server = await startServer(db)
  try {
    for (const row of ROWS) {
      const rates: number[] = []
      for (let rep = 0; rep < REPS; rep++) rates.push(await once(row, db, docket, server.url, key, rep))
      const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
      console.log(
        `${driver.padEnd(9)} ${row.padEnd(15)} concurrency ${CONCURRENCY}: ${fmt(median(rates)).padStart(6)} jobs/s  (${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}, ${REPS} runs of ${JOBS})`,
      )
    }
  } finally {
    await stop(server.child)
    await docket.close()
  }
}

console.log(
  `Remote-worker benchmark: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
)
if (DRIVERS.includes('sqlite')) {
  const dir = mkdtempSync(join(tmpdir(), 'docket-bench-remote-'))
  try {
    await bench('sqlite', join(dir, 'bench.db'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
if (DRIVERS.includes('postgres')) {
  const base = process.env.DOCKET_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const schema = `docket_bench_remote_${process.pid}`
  try {
    await bench('postgres', `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`)
  } finally {
    const admin = new pg.Client({ connectionString: base })
    await admin.connect()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
  }
}
