/** The worker registry, maintenance leadership, wake-ups and cancel notifications, on PostgreSQL. */
import pg from 'pg'
import type { LeaseRef, WorkerInfo, WorkerRecord } from '../store.js'
import { decode, type PgContext, parsePostgresUrl, type Queryable } from './db.js'

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

  constructor(
    private readonly url: string,
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
    const client = new pg.Client({ connectionString: parsePostgresUrl(this.url).connectionString })
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

/** Session advisory locks held on dedicated connections: released by PostgreSQL itself if we die. */
export class Leadership {
  #held = new Map<string, pg.Client>()

  constructor(
    private readonly ctx: PgContext,
    private readonly url: string,
  ) {}

  async acquire(name: string): Promise<boolean> {
    const held = this.#held.get(name)
    if (held) {
      try {
        await held.query('SELECT 1')
        return true
      } catch {
        this.#held.delete(name)
        await held.end().catch(() => {})
      }
    }
    const client = new pg.Client({ connectionString: parsePostgresUrl(this.url).connectionString })
    client.on('error', () => {})
    await client.connect()
    const { rows } = await client.query('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [
      `docket:${this.ctx.schema}:${name}`,
    ])
    if (rows[0]?.ok) {
      this.#held.set(name, client)
      return true
    }
    await client.end()
    return false
  }

  async release(name: string): Promise<void> {
    const client = this.#held.get(name)
    this.#held.delete(name)
    await client?.end().catch(() => {})
  }

  async close(): Promise<void> {
    for (const name of [...this.#held.keys()]) await this.release(name)
  }
}

export async function registerWorker(ctx: PgContext, w: WorkerRecord): Promise<void> {
  await ctx.query(
    `WITH up AS (
       INSERT INTO workers (id, host, pid, kind, capabilities, queues, concurrency)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, kind = excluded.kind,
         capabilities = excluded.capabilities, queues = excluded.queues, concurrency = excluded.concurrency,
         status = 'up', heartbeat_at = now()
       RETURNING id
     )
     INSERT INTO events (worker_id, kind) SELECT id, 'worker.up' FROM up`,
    [w.id, w.host, w.pid, w.kind, w.capabilities, w.queues, w.concurrency],
  )
}

export async function heartbeatWorker(ctx: PgContext, id: string, load: number): Promise<boolean> {
  const rows = await ctx.query(
    `UPDATE workers SET heartbeat_at = now(), load = $2 WHERE id = $1 AND status = 'up' RETURNING id`,
    [id, load],
  )
  return rows.length === 1
}

export async function deregisterWorker(ctx: PgContext, id: string): Promise<void> {
  await ctx.query(
    `WITH down AS (UPDATE workers SET status = 'stopped', load = 0, heartbeat_at = now() WHERE id = $1 RETURNING id)
     INSERT INTO events (worker_id, kind) SELECT id, 'worker.stopped' FROM down`,
    [id],
  )
}

export async function listWorkers(ctx: PgContext): Promise<WorkerInfo[]> {
  const rows = await ctx.query('SELECT * FROM workers ORDER BY started_at DESC')
  return rows.map((r) => ({
    id: String(r.id),
    host: String(r.host),
    pid: Number(r.pid),
    kind: String(r.kind),
    capabilities: r.capabilities as string[],
    queues: r.queues as string[],
    concurrency: Number(r.concurrency),
    load: Number(r.load),
    status: r.status as WorkerInfo['status'],
    startedAt: decode.date(r.started_at),
    heartbeatAt: decode.date(r.heartbeat_at),
  }))
}

export async function markLostWorkers(ctx: PgContext, silentForMs: number): Promise<string[]> {
  const rows = await ctx.query<{ id: string }>(
    `WITH lost AS (
       UPDATE workers SET status = 'lost'
       WHERE status = 'up' AND heartbeat_at < now() - $1 * interval '1 millisecond' RETURNING id
     ), ev AS (INSERT INTO events (worker_id, kind) SELECT id, 'worker.lost' FROM lost)
     SELECT id FROM lost`,
    [silentForMs],
  )
  return rows.map((r) => r.id)
}
