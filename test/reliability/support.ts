/**
 * What the reliability suite shares: short or long parameters (DOCKET_CHAOS=long
 * selects the long ones, see scripts/chaos.mjs), the `# figure` lines every
 * test prints, a small SQL reader for checking Docket's tables from outside,
 * and a fleet of worker processes that are always killed at the end.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { openSql, type Sql } from '../support/sql.js'
import { until } from '../worker/harness.js'
import type { FixtureConfig } from './fixtures/worker.js'

export { type Driver, freshTarget, sleep, type Target, until } from '../worker/harness.js'

export const LONG = process.env.DOCKET_CHAOS === 'long'
export const DRIVERS = ['sqlite', 'postgres'] as const

/** The short value in `npm test`, the long one in `npm run chaos`. */
export const pick = <T>(short: T, long: T): T => (LONG ? long : short)

/**
 * Prints one parseable line, `# figure <name> key=value ...`, and appends it
 * as JSON to $DOCKET_FIGURES_FILE when that is set (npm run chaos collects them).
 */
export function figure(name: string, values: Record<string, string | number | boolean>): void {
  const fields = Object.entries(values).map(([k, v]) => `${k}=${typeof v === 'number' ? round(v) : v}`)
  console.log(`# figure ${name} ${fields.join(' ')}`)
  const file = process.env.DOCKET_FIGURES_FILE
  if (file) appendFileSync(file, `${JSON.stringify({ name, long: LONG, ...values, at: new Date() })}\n`)
}

const round = (v: number) => (Number.isInteger(v) ? v : Math.round(v * 100) / 100)

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Plain SQL on the test database, to check Docket's tables and the executions table from outside. */
export { openSql, type Sql }

/**
 * What the database holds, for a test that timed out waiting on it: counts by
 * status, every live job (type, status, attempts, lease holder and expiry,
 * run-at), the workers, and the maintenance leadership, against both clocks.
 * Read from outside Docket, so it works whatever state Docket is in.
 */
export async function explainJobs(sql: Sql): Promise<string> {
  const lines: string[] = [`test clock: ${new Date().toISOString()} (${Date.now()})`]
  const section = async (title: string, query: string) => {
    try {
      const rows = await sql.all(query)
      lines.push(
        `${title}:`,
        ...(rows.length === 0 ? ['  (none)'] : rows.map((r) => `  ${JSON.stringify(r)}`)),
      )
    } catch (error) {
      lines.push(`${title}: unreadable (${(error as Error).message})`)
    }
  }
  await section('database clock', 'SELECT CURRENT_TIMESTAMP AS now')
  await section('jobs by status', 'SELECT status, count(*) AS n FROM jobs GROUP BY status ORDER BY status')
  await section(
    'live jobs (first 50)',
    `SELECT id, type, status, attempts, max_attempts, worker_id, lease_expires_at, run_at
       FROM jobs WHERE status IN ('waiting','scheduled','blocked','held','active') ORDER BY run_at LIMIT 50`,
  )
  await section('workers', 'SELECT id, status, load, heartbeat_at FROM workers ORDER BY id')
  await section('leadership rows', 'SELECT * FROM leader_leases')
  return lines.join('\n')
}

/** `until`, but a timeout also says what the database holds (see explainJobs). */
export async function untilExplained(
  sql: Sql,
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  try {
    await until(check, timeoutMs, what)
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await explainJobs(sql)}`)
  }
}

/** Per job: how many times Docket recorded it completed (state events), read from its event log. */
export async function completionsPerJob(sql: Sql): Promise<Map<string, number>> {
  const rows = await sql.all<{ job_id: string; n: number | string }>(
    `SELECT job_id, count(*) AS n FROM events WHERE kind = 'state' AND status = 'completed' GROUP BY job_id`,
  )
  return new Map(rows.map((r) => [String(r.job_id), Number(r.n)]))
}

// Worker processes

export interface WorkerChild {
  id: string
  proc: ChildProcess
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>
  /** Errors the worker reported through onError. */
  errors: string[]
  kill(): Promise<void>
  /** SIGTERM, then waits for the exit: the time it took and the exit code. */
  stop(): Promise<{ ms: number; code: number | null }>
}

const everyChild = new Set<ChildProcess>()
// Whatever happens to the test process, no worker outlives it.
process.once('exit', () => {
  for (const c of everyChild) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

/** Starts test/reliability/fixtures/worker.ts and waits until its worker runs. */
export async function spawnWorker(config: FixtureConfig): Promise<WorkerChild> {
  const proc = fork(join(import.meta.dirname, 'fixtures', 'worker.ts'), [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  everyChild.add(proc)
  const errors: string[] = []
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      everyChild.delete(proc)
      resolve(code)
    }),
  )
  proc.on('message', (m) => {
    if (typeof m === 'object' && m !== null && 'error' in m && errors.length < 1000)
      errors.push(String(m.error))
  })
  await new Promise<void>((resolve, reject) => {
    proc.on('message', (m) => m === 'ready' && resolve())
    void exited.then((code) => reject(new Error(`worker ${config.id} exited before it was ready (${code})`)))
  })
  return {
    id: config.id,
    proc,
    exited,
    errors,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
      await exited
    },
    async stop() {
      const t0 = Date.now()
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      const code = await exited
      return { ms: Date.now() - t0, code }
    },
  }
}

/** Every worker child still running: kill them (for after() hooks). */
export async function killAllWorkers(): Promise<void> {
  await Promise.all(
    [...everyChild].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve()
          c.once('exit', () => resolve())
          c.kill('SIGKILL')
        }),
    ),
  )
}

/** Max, and a percentile, of a list of numbers (0 for an empty list). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
