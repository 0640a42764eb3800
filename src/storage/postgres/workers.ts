/** The worker registry, wake-ups and cancel notifications, on PostgreSQL. */
import pg from 'pg'
import { rowToWorker } from '../rows.js'
import type { LeaderTerm, LeaseRef, WorkerInfo, WorkerRecord } from '../store.js'
import { NOW } from './clock.js'
import { decode, type PgContext, type Queryable } from './db.js'
import { assertTerm } from './leadership.js'
import { CLOSE_RELEASED, RELEASE_LEASE } from './leases.js'

export const readyChannel = (schema: string) => `docket_ready_${schema}`
export const cancelChannel = (schema: string) => `docket_cancel_${schema}`

/** Tells the worker running the job, in whatever process, that it was cancelled; sent at commit. */
export async function notifyCancelled(c: Queryable, schema: string, lease: LeaseRef): Promise<void> {
  await c.query('SELECT pg_notify($1, $2)', [cancelChannel(schema), JSON.stringify(lease)])
}

export async function notifyReady(ctx: PgContext, queues: string[]): Promise<void> {
  if (queues.length === 0) return
  await ctx.query('SELECT pg_notify($1, q) FROM unnest($2::text[]) AS q', [
    readyChannel(ctx.schema),
    [...new Set(queues)],
  ])
}

/**
 * One LISTEN connection per Docket, shared by its listeners, on two channels:
 * - ready: a queue name, sent when jobs may have become ready in it;
 * - cancel: `{"id","token"}`, the lease of an active job, sent at the commit of its cancel.
 * If the connection drops (a database restart), it reconnects with backoff and
 * calls every listener with '*', since notifications sent meanwhile are lost.
 */
export class Notifications {
  readonly #ready = new Set<(queue: string) => void>()
  readonly #cancelled = new Set<(lease: LeaseRef | '*') => void>()
  readonly #channels: { ready: string; cancel: string }
  #client: pg.Client | null = null
  #closed = false
  #connecting: Promise<void> | null = null

  /** `connectionString`: a session of its own, straight to the server (never a transaction pooler's). */
  constructor(
    private readonly connectionString: string,
    schema: string,
  ) {
    this.#channels = { ready: readyChannel(schema), cancel: cancelChannel(schema) }
  }

  onReady(listener: (queue: string) => void): Promise<() => Promise<void>> {
    return this.#add(this.#ready, listener)
  }

  onCancelled(listener: (lease: LeaseRef | '*') => void): Promise<() => Promise<void>> {
    return this.#add(this.#cancelled, listener)
  }

  async #add<L>(listeners: Set<L>, listener: L): Promise<() => Promise<void>> {
    listeners.add(listener)
    await this.#ensureConnected()
    return async () => {
      listeners.delete(listener)
    }
  }

  #route(channel: string, payload: string | undefined): void {
    if (channel === this.#channels.ready) {
      for (const l of this.#ready) l(payload ?? '*')
    } else if (channel === this.#channels.cancel) {
      const lease = parseLease(payload)
      if (lease) for (const l of this.#cancelled) l(lease)
    }
  }

  #missedSome(): void {
    for (const l of this.#ready) l('*')
    for (const l of this.#cancelled) l('*')
  }

  async #ensureConnected(): Promise<void> {
    if (this.#client || this.#closed) return
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = null
    })
    return this.#connecting
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString })
    client.on('notification', (msg) => this.#route(msg.channel, msg.payload))
    const lost = () => {
      if (this.#client !== client) return
      this.#client = null
      client.end().catch(() => {})
      this.#reconnectLater(250)
    }
    client.on('error', lost)
    client.on('end', lost)
    await client.connect()
    await client.query(`LISTEN "${this.#channels.ready}"; LISTEN "${this.#channels.cancel}"`)
    if (this.#closed) {
      await client.end().catch(() => {})
      return
    }
    this.#client = client
  }

  #reconnectLater(delayMs: number): void {
    if (this.#closed) return
    setTimeout(() => {
      this.#ensureConnected().then(
        () => this.#missedSome(),
        () => this.#reconnectLater(Math.min(delayMs * 2, 5_000)),
      )
    }, delayMs).unref()
  }

  async close(): Promise<void> {
    this.#closed = true
    const client = this.#client
    this.#client = null
    await client?.end().catch(() => {})
  }
}

/** The payload of a cancel notification, or null if it is not one (never trust a channel blindly). */
function parseLease(payload: string | undefined): LeaseRef | null {
  try {
    const value = JSON.parse(payload ?? '') as Partial<LeaseRef>
    return typeof value.id === 'string' && typeof value.token === 'string'
      ? { id: value.id, token: value.token }
      : null
  } catch {
    return null
  }
}

export async function registerWorker(ctx: PgContext, w: WorkerRecord): Promise<void> {
  await ctx.query(
    `WITH up AS (
       INSERT INTO workers (id, host, pid, kind, capabilities, queues, concurrency, registered_by,
         started_at, heartbeat_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ${NOW(9)}, ${NOW(9)})
       ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, kind = excluded.kind,
         capabilities = excluded.capabilities, queues = excluded.queues, concurrency = excluded.concurrency,
         status = 'up', heartbeat_at = excluded.heartbeat_at, registered_by = excluded.registered_by
       RETURNING id
     )
     INSERT INTO events (worker_id, kind, at) SELECT id, 'worker.up', ${NOW(9)} FROM up`,
    [
      w.id,
      w.host,
      w.pid,
      w.kind,
      w.capabilities,
      w.queues,
      w.concurrency,
      w.registeredBy ?? null,
      ctx.clockNow(),
    ],
  )
}

export async function heartbeatWorker(ctx: PgContext, id: string, load: number): Promise<boolean> {
  const rows = await ctx.query(
    `UPDATE workers SET heartbeat_at = ${NOW(3)}, load = $2 WHERE id = $1 AND status = 'up' RETURNING id`,
    [id, load, ctx.clockNow()],
  )
  return rows.length === 1
}

/** Stops the worker and, in the same statement, releases every job it holds (see releaseJobs). */
export async function deregisterWorker(ctx: PgContext, id: string): Promise<number> {
  const [row] = await ctx.query<{ n: string }>(
    `WITH down AS (
       UPDATE workers SET status = 'stopped', load = 0, heartbeat_at = ${NOW(2)} WHERE id = $1 RETURNING id
     ),
     ev AS (INSERT INTO events (worker_id, kind, at) SELECT id, 'worker.stopped', ${NOW(2)} FROM down),
     held AS (
       -- Locked in id order, as every statement that writes several jobs does (leases.ts, LOCK_HELD).
       SELECT id FROM jobs WHERE status = 'active' AND worker_id = $1 ORDER BY id FOR NO KEY UPDATE
     ),
     released AS (
       UPDATE jobs j SET status = 'waiting', attempts = j.attempts - 1, ${RELEASE_LEASE},
         lease_token = NULL, lease_expires_at = NULL
       FROM held WHERE j.id = held.id AND j.status = 'active' AND j.worker_id = $1
       RETURNING j.id, j.queue
     ), jev AS (
       INSERT INTO events (job_id, queue, worker_id, kind, status, at)
       SELECT id, queue, $1, 'state', 'waiting', ${NOW(2)} FROM released
     ), att AS (${CLOSE_RELEASED(2)}), wake AS (
       SELECT count(pg_notify('docket_ready_' || current_schema(), queue)) AS n
       FROM (SELECT DISTINCT queue FROM released) ready
     )
     SELECT (SELECT count(*) FROM released) AS n, (SELECT n FROM wake) AS woken`,
    [id, ctx.clockNow()],
  )
  return Number(row?.n ?? 0)
}

export async function getWorker(ctx: PgContext, id: string): Promise<WorkerInfo | null> {
  const [row] = await ctx.query('SELECT * FROM workers WHERE id = $1', [id])
  return row ? rowToWorker(row, decode) : null
}

export async function listWorkers(ctx: PgContext): Promise<WorkerInfo[]> {
  const rows = await ctx.query('SELECT * FROM workers ORDER BY started_at DESC')
  return rows.map((r) => rowToWorker(r, decode))
}

export async function markLostWorkers(
  ctx: PgContext,
  silentForMs: number,
  fence?: LeaderTerm,
): Promise<string[]> {
  const mark = async (c: Queryable) =>
    c.query<{ id: string }>(
      `WITH lost AS (
         UPDATE workers SET status = 'lost'
         WHERE status = 'up' AND heartbeat_at < ${NOW(2)} - $1 * interval '1 millisecond' RETURNING id
       ), ev AS (INSERT INTO events (worker_id, kind, at) SELECT id, 'worker.lost', ${NOW(2)} FROM lost)
       -- Its leases are left to expire on their own: "silent" is judged by the leader's threshold,
       -- not the worker's own heartbeat interval, so a worker marked lost may still be running its jobs.
       SELECT id FROM lost`,
      [silentForMs, ctx.clockNow()],
    )
  const rows = fence
    ? await ctx.tx(async (c) => {
        await assertTerm(c, fence, ctx.clockNow())
        return mark(c)
      })
    : await mark(ctx)
  return rows.map((r) => r.id)
}

/** Forgets a worker that is not up: 'removed', 'up' (refused), or null when there is none. */
export async function removeWorker(ctx: PgContext, id: string): Promise<'removed' | 'up' | null> {
  const [row] = await ctx.query<{ removed: boolean; status: string | null }>(
    `WITH gone AS (DELETE FROM workers WHERE id = $1 AND status <> 'up' RETURNING id)
     SELECT EXISTS (SELECT 1 FROM gone) AS removed, (SELECT status FROM workers WHERE id = $1) AS status`,
    [id],
  )
  if (row?.removed) return 'removed'
  return row?.status === 'up' ? 'up' : null
}

/** Forgets stopped and lost workers last heard from more than `olderThanMs` ago. Returns their ids. */
export async function pruneWorkers(
  ctx: PgContext,
  olderThanMs: number,
  fence?: LeaderTerm,
): Promise<string[]> {
  const prune = (c: Queryable) =>
    c.query<{ id: string }>(
      `DELETE FROM workers WHERE status IN ('stopped','lost')
         AND heartbeat_at < ${NOW(2)} - $1 * interval '1 millisecond' RETURNING id`,
      [olderThanMs, ctx.clockNow()],
    )
  const rows = fence
    ? await ctx.tx(async (c) => {
        await assertTerm(c, fence, ctx.clockNow())
        return prune(c)
      })
    : await prune(ctx)
  return rows.map((r) => r.id)
}
