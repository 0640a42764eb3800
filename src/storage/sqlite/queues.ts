import { conflict, notFound } from '../../core/errors.js'
import type { QueueRecord } from '../../core/resolve.js'
import type { Queue } from '../../core/types.js'
import { rowToQueue, rowToQueueRecord } from '../rows.js'
import { LIVE } from '../sql.js'
import { decode, type SqliteContext } from './db.js'

type Row = Record<string, unknown>

function params(q: QueueRecord) {
  return {
    name: q.name,
    description: q.description,
    mode: q.mode,
    status: q.status,
    concurrency: q.concurrency,
    ordering: q.ordering,
    maxAttempts: q.defaults.maxAttempts,
    backoff: JSON.stringify(q.defaults.backoff),
    timeoutMs: q.defaults.timeoutMs,
    retentionMs: q.retentionMs,
    settings: JSON.stringify(q.settings),
    rateMax: q.rateLimit?.max ?? null,
    rateIntervalMs: q.rateLimit?.intervalMs ?? null,
    ratePer: q.rateLimit?.per ?? null,
    groupConcurrency: q.groupConcurrency,
    fair: q.fair ? 1 : 0,
    groupByOwner: q.groupByOwner ? 1 : 0,
  }
}

export function createQueue(ctx: SqliteContext, queue: QueueRecord): Queue {
  return ctx.tx(() => {
    if (ctx.stmt('SELECT 1 FROM queues WHERE name = ?').get(queue.name)) {
      throw conflict(`queue '${queue.name}' already exists`, { name: queue.name })
    }
    const now = ctx.now()
    const row = ctx
      .stmt(
        `INSERT INTO queues (name, description, mode, status, concurrency, ordering, max_attempts, backoff,
           timeout_ms, retention_ms, settings, rate_max, rate_interval_ms, rate_per, group_concurrency, fair,
           group_by_owner, created_at, updated_at)
         VALUES (@name, @description, @mode, @status, @concurrency, @ordering, @maxAttempts, @backoff,
           @timeoutMs, @retentionMs, @settings, @rateMax, @rateIntervalMs, @ratePer, @groupConcurrency, @fair,
           @groupByOwner, @now, @now) RETURNING *`,
      )
      .get({ ...params(queue), now }) as Row
    return rowToQueue(row, decode)
  })
}

export function updateQueue(
  ctx: SqliteContext,
  name: string,
  change: (q: QueueRecord) => QueueRecord,
): Queue {
  return ctx.tx(() => {
    const current = ctx.stmt('SELECT * FROM queues WHERE name = ?').get(name) as Row | undefined
    if (!current) throw notFound('queue', name)
    const next = change(rowToQueueRecord(current, decode))
    const row = ctx
      .stmt(
        `UPDATE queues SET description = @description, mode = @mode, status = @status, concurrency = @concurrency,
           ordering = @ordering, max_attempts = @maxAttempts, backoff = @backoff, timeout_ms = @timeoutMs,
           retention_ms = @retentionMs, settings = @settings, rate_max = @rateMax,
           rate_interval_ms = @rateIntervalMs, rate_per = @ratePer, group_concurrency = @groupConcurrency,
           fair = @fair, group_by_owner = @groupByOwner, updated_at = @now
         WHERE name = @name RETURNING *`,
      )
      .get({ ...params({ ...next, name }), now: ctx.now() }) as Row
    if (next.status !== current.status) {
      const kind = next.status === 'paused' ? 'queue.paused' : 'queue.resumed'
      ctx.stmt('INSERT INTO events (queue, kind, at) VALUES (?, ?, ?)').run(name, kind, ctx.now())
    }
    return rowToQueue(row, decode)
  })
}

export function getQueue(ctx: SqliteContext, name: string): Queue | null {
  const row = ctx.stmt('SELECT * FROM queues WHERE name = ?').get(name) as Row | undefined
  return row ? rowToQueue(row, decode) : null
}

export function listQueues(ctx: SqliteContext): Queue[] {
  return (ctx.stmt('SELECT * FROM queues ORDER BY name').all() as Row[]).map((r) => rowToQueue(r, decode))
}

export function deleteQueue(ctx: SqliteContext, name: string, force: boolean): void {
  ctx.tx(() => {
    if (!ctx.stmt('SELECT 1 FROM queues WHERE name = ?').get(name)) throw notFound('queue', name)
    const { n } = ctx
      .stmt(`SELECT count(*) AS n FROM jobs WHERE queue = ? AND status IN ${LIVE}`)
      .get(name) as {
      n: number
    }
    if (n > 0 && !force) {
      throw conflict(`queue '${name}' has ${n} live jobs; cancel them first or delete with force`, {
        name,
        liveJobs: n,
      })
    }
    ctx.stmt('DELETE FROM events WHERE queue = ?').run(name)
    ctx.stmt('DELETE FROM job_dependencies WHERE job_id IN (SELECT id FROM jobs WHERE queue = ?)').run(name)
    ctx.stmt('DELETE FROM jobs WHERE queue = ?').run(name)
    ctx.stmt('DELETE FROM queues WHERE name = ?').run(name)
  })
}
