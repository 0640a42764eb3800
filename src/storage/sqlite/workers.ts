/** The worker registry and wake-ups, on SQLite. */
import { EventEmitter } from 'node:events'
import { rowToWorker } from '../rows.js'
import type { LeaderTerm, WorkerInfo, WorkerRecord } from '../store.js'
import { decode, type SqliteContext } from './db.js'
import { assertTerm } from './leadership.js'
import { releaseRow } from './leases.js'

type Row = Record<string, unknown>

/**
 * Wake-ups within this process, shared by every Docket open on the same
 * file; workers in other processes find new jobs by polling.
 */
const signals = new Map<string, EventEmitter>()

export function readySignal(path: string): EventEmitter {
  let emitter = signals.get(path)
  if (!emitter) {
    emitter = new EventEmitter()
    emitter.setMaxListeners(0)
    signals.set(path, emitter)
  }
  return emitter
}

export function registerWorker(ctx: SqliteContext, w: WorkerRecord): void {
  const now = ctx.now()
  ctx
    .stmt(
      `INSERT INTO workers (id, host, pid, kind, capabilities, queues, concurrency, load, status, started_at,
         heartbeat_at, registered_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'up', ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, kind = excluded.kind,
         capabilities = excluded.capabilities, queues = excluded.queues, concurrency = excluded.concurrency,
         status = 'up', heartbeat_at = excluded.heartbeat_at, registered_by = excluded.registered_by`,
    )
    .run(
      w.id,
      w.host,
      w.pid,
      w.kind,
      JSON.stringify(w.capabilities),
      JSON.stringify(w.queues),
      w.concurrency,
      now,
      now,
      w.registeredBy ?? null,
    )
  ctx.stmt(`INSERT INTO events (worker_id, kind, at) VALUES (?, 'worker.up', ?)`).run(w.id, now)
}

export function heartbeatWorker(ctx: SqliteContext, id: string, load: number): boolean {
  const r = ctx
    .stmt(`UPDATE workers SET heartbeat_at = ?, load = ? WHERE id = ? AND status = 'up'`)
    .run(ctx.now(), load, id)
  return r.changes === 1
}

export function deregisterWorker(ctx: SqliteContext, id: string): number {
  return ctx.tx(() => {
    const now = ctx.now()
    ctx.stmt(`UPDATE workers SET status = 'stopped', load = 0, heartbeat_at = ? WHERE id = ?`).run(now, id)
    ctx.stmt(`INSERT INTO events (worker_id, kind, at) VALUES (?, 'worker.stopped', ?)`).run(id, now)
    // A worker that leaves hands back whatever it still holds: nobody waits out its leases.
    const held = ctx.stmt(`SELECT id, queue FROM jobs WHERE status = 'active' AND worker_id = ?`).all(id) as {
      id: string
      queue: string
    }[]
    for (const job of held) releaseRow(ctx, job.id, job.queue, now, id)
    return held.length
  })
}

export function getWorker(ctx: SqliteContext, id: string): WorkerInfo | null {
  const row = ctx.stmt('SELECT * FROM workers WHERE id = ?').get(id) as Row | undefined
  return row ? rowToWorker(row, decode) : null
}

export function listWorkers(ctx: SqliteContext): WorkerInfo[] {
  return (ctx.stmt('SELECT * FROM workers ORDER BY started_at DESC').all() as Row[]).map((r) =>
    rowToWorker(r, decode),
  )
}

export function markLostWorkers(ctx: SqliteContext, silentForMs: number, fence?: LeaderTerm): string[] {
  return ctx.tx(() => {
    const now = ctx.now()
    assertTerm(ctx, fence, now)
    const lost = ctx
      .stmt(`UPDATE workers SET status = 'lost' WHERE status = 'up' AND heartbeat_at < ? RETURNING id`)
      .all(now - silentForMs) as { id: string }[]
    for (const { id } of lost) {
      // Its leases are left to expire on their own: "silent" is judged by the leader's threshold,
      // not the worker's own heartbeat interval, so a worker marked lost may still be running its jobs.
      ctx.stmt(`INSERT INTO events (worker_id, kind, at) VALUES (?, 'worker.lost', ?)`).run(id, now)
    }
    return lost.map((r) => r.id)
  })
}

/** Forgets a worker that is not up: 'removed', 'up' (refused), or null when there is none. */
export function removeWorker(ctx: SqliteContext, id: string): 'removed' | 'up' | null {
  return ctx.tx(() => {
    const row = ctx.stmt('SELECT status FROM workers WHERE id = ?').get(id) as { status: string } | undefined
    if (!row) return null
    if (row.status === 'up') return 'up'
    ctx.stmt('DELETE FROM workers WHERE id = ?').run(id)
    return 'removed'
  })
}

/** Forgets stopped and lost workers last heard from more than `olderThanMs` ago. Returns their ids. */
export function pruneWorkers(ctx: SqliteContext, olderThanMs: number, fence?: LeaderTerm): string[] {
  return ctx.tx(() => {
    const now = ctx.now()
    assertTerm(ctx, fence, now)
    const rows = ctx
      .stmt(`DELETE FROM workers WHERE status IN ('stopped','lost') AND heartbeat_at < ? RETURNING id`)
      .all(now - olderThanMs) as { id: string }[]
    return rows.map((r) => r.id)
  })
}
