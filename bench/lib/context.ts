/**
 * What one `npm run bench` works with: its settings (every count can be
 * lowered by an environment variable for a quick look, never raised by
 * default), where the databases are, the machine, and progress lines.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { connect } from 'node:net'
import { cpus, totalmem } from 'node:os'
import pg from 'pg'

const int = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`)
  return value
}

export const settings = {
  /** Jobs added in bulk, and then processed, per run. */
  jobs: int('BENCH_JOBS', 10_000),
  /** Repetitions of every measurement. */
  reps: int('BENCH_REPS', 3),
  /** Jobs in flight per worker process, the same for every system. */
  concurrency: int('BENCH_CONCURRENCY', 10),
  /** Poll interval of the systems that only poll (pg-boss's minimum is 500 ms). */
  pollMs: 500,
  pickupSamples: int('BENCH_PICKUP_SAMPLES', 100),
  /** Finished jobs in the table for the growth test: a small and a large table. */
  growthSmall: 10_000,
  growthLarge: int('BENCH_GROWTH_ROWS', 1_000_000),
  /** Timed claims per repetition in the growth test. */
  growthClaims: 200,
  /** Seconds of each pgbench run and of each SQLite update run. */
  limitSeconds: int('BENCH_LIMIT_SECONDS', 5),
}

export const pgUrl = process.env.DOCKET_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const redisAddress = process.env.DOCKET_BENCH_REDIS ?? '127.0.0.1:6379'

const t0 = performance.now()
export const elapsed = () => (performance.now() - t0) / 1000

/** A progress line, prefixed with the time since the start. */
export function log(line: string): void {
  const s = Math.floor(elapsed())
  console.log(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${line}`)
}

/** True when a Redis server answers PING at host:port within a second. */
export function redisAnswers(address: string): Promise<boolean> {
  const [host, port] = address.split(':') as [string, string]
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')))
  })
}

/** pgbench from PATH, else from the Debian PostgreSQL layout. */
export function findPgbench(): string | null {
  try {
    execFileSync('pgbench', ['--version'], { stdio: 'ignore' })
    return 'pgbench'
  } catch {
    const root = '/usr/lib/postgresql'
    if (!existsSync(root)) return null
    const found = readdirSync(root)
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => `${root}/${v}/bin/pgbench`)
      .find((p) => existsSync(p))
    return found ?? null
  }
}

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  node: string
  postgres: string
  sqlite: string
  redis: string | null
  platform: string
}

export async function describeMachine(redis: boolean, sqliteVersion: string): Promise<Machine> {
  const client = new pg.Client({ connectionString: pgUrl })
  await client.connect()
  const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")
  await client.end()
  let redisVersion: string | null = null
  if (redis) {
    try {
      redisVersion =
        execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? null
    } catch {
      redisVersion = 'unknown'
    }
  }
  return {
    cpus: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: rows[0]!.v,
    sqlite: sqliteVersion,
    redis: redisVersion,
    platform: `${process.platform} ${process.arch}`,
  }
}
