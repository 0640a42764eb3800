/**
 * What a processing run costs besides time: the CPU of the worker processes
 * and of the database server, and the WAL PostgreSQL wrote, read around the
 * run and divided by the jobs it finished.
 *
 * CPU comes from /proc/<pid>/stat (utime + stime, every thread of the
 * process, in clock ticks). For the server it is the sum over every process
 * named `postgres` (or `redis-server`) of its exact time on the CPU
 * (/proc/<pid>/schedstat, nanoseconds: a backend's share of a short run is a
 * few ticks, which tick sampling gets badly wrong), plus what they reaped
 * (cutime + cstime): a backend that exits during the run is counted by the
 * postmaster that waits for it. The server is shared, so
 * anything else it does meanwhile is counted too: run on a quiet machine.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import type pg from 'pg'

let ticksPerSecond: number | null = null
const usPerTick = () => {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  return 1e6 / ticksPerSecond
}

interface Stat {
  comm: string
  own: number
  reaped: number
}

function stat(pid: number | string): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const close = text.lastIndexOf(')')
    const comm = text.slice(text.indexOf('(') + 1, close)
    // Fields after the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const f = text
      .slice(close + 2)
      .split(' ')
      .map(Number)
    return { comm, own: f[11]! + f[12]!, reaped: f[13]! + f[14]! }
  } catch {
    return null // gone, or not Linux
  }
}

/** CPU microseconds one process has used so far (null once it is gone, or off Linux). */
export function processCpuUs(pid: number): number | null {
  const s = stat(pid)
  return s ? s.own * usPerTick() : null
}

/** Exact CPU microseconds of a process's main thread, from /proc/<pid>/schedstat (null where there is none). */
function scheduledUs(pid: string): number | null {
  try {
    const ns = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0])
    return Number.isFinite(ns) ? ns / 1000 : null
  } catch {
    return null
  }
}

/** CPU microseconds used so far by every process with this name, and by the children they reaped. */
export function serverCpuUs(comm: 'postgres' | 'redis-server'): number | null {
  let dirs: string[]
  try {
    dirs = readdirSync('/proc').filter((d) => /^\d+$/.test(d))
  } catch {
    return null
  }
  let us = 0
  let found = false
  for (const d of dirs) {
    const s = stat(d)
    if (s?.comm !== comm) continue
    found = true
    us += (scheduledUs(d) ?? s.own * usPerTick()) + s.reaped * usPerTick()
  }
  return found ? us : null
}

/** PostgreSQL's current WAL insert position, to subtract with walBytesSince. */
export async function walLsn(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')
  return rows[0]!.lsn
}

export async function walBytesSince(client: pg.Client, lsn: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint::text AS n',
    [lsn],
  )
  return Number(rows[0]!.n)
}
