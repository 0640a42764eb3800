import { conflict, notFound } from '../../core/errors.js'
import type { QueueRecord } from '../../core/resolve.js'
import type { Queue } from '../../core/types.js'
import { rowToQueue, rowToQueueRecord } from '../rows.js'
import { LIVE } from '../sql.js'
import { NOW } from './clock.js'
import { decode, type PgContext } from './db.js'

const values = (q: QueueRecord) => [
  q.name,
  q.description,
  q.mode,
  q.status,
  q.concurrency,
  q.ordering,
  q.defaults.maxAttempts,
  JSON.stringify(q.defaults.backoff),
  q.defaults.timeoutMs,
  q.retentionMs,
  JSON.stringify(q.settings),
  q.rateLimit?.max ?? null,
  q.rateLimit?.intervalMs ?? null,
  q.rateLimit?.per ?? null,
  q.groupConcurrency,
  q.fair,
  q.groupByOwner,
]

export async function createQueue(ctx: PgContext, queue: QueueRecord): Promise<Queue> {
  const rows = await ctx.query(
    `INSERT INTO queues (name, description, mode, status, concurrency, ordering, max_attempts, backoff,
       timeout_ms, retention_ms, settings, rate_max, rate_interval_ms, rate_per, group_concurrency, fair,
       group_by_owner, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, ${NOW(18)}, ${NOW(18)})
     ON CONFLICT (name) DO NOTHING RETURNING *`,
    [...values(queue), ctx.clockNow()],
  )
  if (rows.length === 0) throw conflict(`queue '${queue.name}' already exists`, { name: queue.name })
  return rowToQueue(rows[0]!, decode)
}

export async function updateQueue(
  ctx: PgContext,
  name: string,
  change: (q: QueueRecord) => QueueRecord,
): Promise<Queue> {
  return ctx.tx(async (c) => {
    const [current] = await c.query('SELECT * FROM queues WHERE name = $1 FOR UPDATE', [name])
    if (!current) throw notFound('queue', name)
    const next = change(rowToQueueRecord(current, decode))
    const [row] = await c.query(
      `UPDATE queues SET description = $2, mode = $3, status = $4, concurrency = $5, ordering = $6,
         max_attempts = $7, backoff = $8, timeout_ms = $9, retention_ms = $10, settings = $11,
         rate_max = $12, rate_interval_ms = $13, rate_per = $14, group_concurrency = $15, fair = $16,
         group_by_owner = $17, updated_at = ${NOW(18)}
       WHERE name = $1 RETURNING *`,
      [...values({ ...next, name }), ctx.clockNow()],
    )
    if (next.status !== current.status) {
      const kind = next.status === 'paused' ? 'queue.paused' : 'queue.resumed'
      await c.query(`INSERT INTO events (queue, kind, at) VALUES ($1, $2, ${NOW(3)})`, [
        name,
        kind,
        ctx.clockNow(),
      ])
    }
    return rowToQueue(row!, decode)
  })
}

export async function getQueue(ctx: PgContext, name: string): Promise<Queue | null> {
  const [row] = await ctx.query('SELECT * FROM queues WHERE name = $1', [name])
  return row ? rowToQueue(row, decode) : null
}

export async function listQueues(ctx: PgContext): Promise<Queue[]> {
  return (await ctx.query('SELECT * FROM queues ORDER BY name')).map((r) => rowToQueue(r, decode))
}

export async function deleteQueue(ctx: PgContext, name: string, force: boolean): Promise<void> {
  await ctx.tx(async (c) => {
    const [queue] = await c.query('SELECT 1 FROM queues WHERE name = $1 FOR UPDATE', [name])
    if (!queue) throw notFound('queue', name)
    const [{ n }] = (await c.query(
      `SELECT count(*)::int AS n FROM jobs WHERE queue = $1 AND status IN ${LIVE}`,
      [name],
    )) as [{ n: number }]
    if (n > 0 && !force) {
      throw conflict(`queue '${name}' has ${n} live jobs; cancel them first or delete with force`, {
        name,
        liveJobs: n,
      })
    }
    await c.query('DELETE FROM events WHERE queue = $1', [name])
    await c.query('DELETE FROM job_dependencies WHERE job_id IN (SELECT id FROM jobs WHERE queue = $1)', [
      name,
    ])
    await c.query('DELETE FROM job_attempts WHERE job_id IN (SELECT id FROM jobs WHERE queue = $1)', [name])
    await c.query('DELETE FROM jobs WHERE queue = $1', [name])
    await c.query('DELETE FROM queues WHERE name = $1', [name])
  })
}
