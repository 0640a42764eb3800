/** Operator actions on jobs (cancel, retry, reprioritise, promote, remove) and retention, on PostgreSQL. */
import { notFound } from '../../core/errors.js'
import { assertTransition, decideRetry, type JobAction } from '../../core/states.js'
import type { Job, JobStatus } from '../../core/types.js'
import { rowToJob } from '../rows.js'
import type { CleanupParams } from '../store.js'
import { closeAttempts } from './attempts.js'
import { NOW } from './clock.js'
import { decode, type PgContext, type Queryable } from './db.js'
import { failDependents } from './dependencies.js'
import { insertStateEvents } from './events.js'
import { assertTerm } from './leadership.js'
import { notifyCancelled } from './workers.js'

type Row = Record<string, unknown>

/** Locks the job's row, when `action` may start from its status (NOT_FOUND or INVALID_STATE otherwise). */
async function lockFor(c: Queryable, action: JobAction, id: string): Promise<Row> {
  const row = await lockRow(c, id)
  assertTransition(action, id, row.status as JobStatus)
  return row
}

async function lockRow(c: Queryable, id: string): Promise<Row> {
  const [row] = await c.query('SELECT * FROM jobs WHERE id = $1 FOR UPDATE', [id])
  if (!row) throw notFound('job', id)
  return row
}

export async function cancelJob(ctx: PgContext, id: string): Promise<Job> {
  const now = ctx.clockNow()
  return ctx.tx(async (c) => {
    const row = await lockFor(c, 'cancel', id)
    const [updated] = await c.query(
      // A cancelled lease is remembered, so its worker is told why it lost it.
      `UPDATE jobs SET status = 'cancelled', finished_at = ${NOW(2)},
         lease_ended_token = coalesce(lease_token, lease_ended_token),
         lease_ended_reason = CASE WHEN lease_token IS NULL THEN lease_ended_reason ELSE 'cancelled' END,
         lease_ended_attempt = CASE WHEN lease_token IS NULL THEN lease_ended_attempt ELSE attempts END,
         lease_token = NULL, lease_expires_at = NULL
       WHERE id = $1 RETURNING *`,
      [id, now],
    )
    await insertStateEvents(c, [{ id, queue: String(row.queue), status: 'cancelled' }], now)
    if (row.status === 'active') {
      await closeAttempts(c, [id], 'cancelled', null, now)
      await notifyCancelled(c, ctx.schema, { id, token: String(row.lease_token) })
    }
    if (row.has_dependents) await failDependents(c, id, 'was cancelled', now)
    return rowToJob(updated!, decode)
  })
}

export async function retryJob(ctx: PgContext, id: string): Promise<Job> {
  const now = ctx.clockNow()
  return ctx.tx(async (c) => {
    const row = await lockFor(c, 'retry', id)
    const upstream = await c.query<{ id: string; status: JobStatus }>(
      // Unfinished for the dependency's type: a finished upstream no longer holds up a completion dependency.
      `SELECT d.depends_on AS id, j.status FROM job_dependencies d JOIN jobs j ON j.id = d.depends_on
       WHERE d.job_id = $1 AND j.status <> 'completed'
         AND NOT (d.type = 'completion' AND j.status IN ('failed','cancelled')) FOR SHARE OF j`,
      [id],
    )
    const [queue] = await c.query<{ mode: string }>('SELECT mode FROM queues WHERE name = $1', [row.queue])
    const { status, pendingDependencies } = decideRetry(id, upstream, queue?.mode === 'manual')
    const [updated] = await c.query(
      // Attempts start again from 0; the last lease's attempt moves with them (see core/leases.ts).
      // A retried job no longer expires: whoever retries it wants it run, however late.
      `UPDATE jobs SET status = $2, attempts = 0, lease_ended_attempt = lease_ended_attempt - attempts, expires_at = NULL,
         run_at = ${NOW(4)}, pending_deps = $3, finished_at = NULL,
         result = NULL, duration_ms = NULL, progress_percent = 0, progress_step = NULL, progress_message = NULL
       WHERE id = $1 RETURNING *`,
      [id, status, pendingDependencies, now],
    )
    await insertStateEvents(c, [{ id, queue: String(row.queue), status }], now)
    return rowToJob(updated!, decode)
  })
}

export async function setPriority(ctx: PgContext, id: string, priority: number): Promise<Job> {
  return ctx.tx(async (c) => {
    await lockFor(c, 'reprioritise', id)
    const [updated] = await c.query('UPDATE jobs SET priority = $2 WHERE id = $1 RETURNING *', [id, priority])
    return rowToJob(updated!, decode)
  })
}

export async function promoteJobs(
  ctx: PgContext,
  target: { ids: string[] } | { queue: string },
): Promise<number> {
  const now = ctx.clockNow()
  return ctx.tx(async (c) => {
    let rows: Row[]
    if ('ids' in target) {
      rows = await c.query(
        'SELECT id, queue, status FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
        [target.ids],
      )
      const found = new Map(rows.map((r) => [String(r.id), r]))
      for (const id of target.ids) {
        const row = found.get(id)
        if (!row) throw notFound('job', id)
        assertTransition('promote', id, row.status as JobStatus)
      }
    } else {
      const [queue] = await c.query('SELECT 1 FROM queues WHERE name = $1', [target.queue])
      if (!queue) throw notFound('queue', target.queue)
      rows = await c.query(
        `SELECT id, queue FROM jobs WHERE queue = $1 AND status = 'held' ORDER BY id FOR UPDATE`,
        [target.queue],
      )
    }
    if (rows.length === 0) return 0
    await c.query(
      `UPDATE jobs SET status = 'waiting', run_at = least(run_at, ${NOW(2)}) WHERE id = ANY($1::uuid[])`,
      [rows.map((r) => r.id), now],
    )
    await insertStateEvents(
      c,
      rows.map((r) => ({ id: String(r.id), queue: String(r.queue), status: 'waiting' as const })),
      now,
    )
    return rows.length
  })
}

export async function removeJob(ctx: PgContext, id: string): Promise<void> {
  await ctx.tx(async (c) => {
    const row = await lockFor(c, 'remove', id)
    if (row.has_dependents) await failDependents(c, id, 'was removed', ctx.clockNow())
    await deleteJobs(c, [id])
  })
}

async function deleteJobs(c: Queryable, ids: string[]): Promise<void> {
  await c.query('DELETE FROM events WHERE job_id = ANY($1::uuid[])', [ids])
  await c.query('DELETE FROM job_dependencies WHERE job_id = ANY($1::uuid[])', [ids])
  // No foreign key takes them along (migration 0016): one less lock and trigger per claim.
  await c.query('DELETE FROM job_attempts WHERE job_id = ANY($1::uuid[])', [ids])
  await c.query('DELETE FROM jobs WHERE id = ANY($1::uuid[])', [ids])
}

/** Deletes finished jobs in batches, each its own short transaction. */
export async function cleanup(ctx: PgContext, p: CleanupParams): Promise<number> {
  const targets: { queue: string | null; retentionMs: number }[] = []
  if (p.olderThanMs !== null) {
    targets.push({ queue: p.queue, retentionMs: p.olderThanMs })
  } else {
    const queues = await ctx.query<{ name: string; retention_ms: number }>(
      'SELECT name, retention_ms FROM queues WHERE retention_ms IS NOT NULL AND ($1::text IS NULL OR name = $1)',
      [p.queue],
    )
    for (const q of queues) targets.push({ queue: q.name, retentionMs: q.retention_ms })
  }
  let deleted = 0
  for (const t of targets) {
    for (;;) {
      const n = await ctx.tx(async (c) => {
        await assertTerm(c, p.fence, ctx.clockNow())
        const rows = await c.query<{ id: string }>(
          `SELECT id FROM jobs WHERE finished_at < ${NOW(4)} - $1 * interval '1 millisecond'
             AND ($2::text IS NULL OR queue = $2) LIMIT $3 FOR UPDATE SKIP LOCKED`,
          [t.retentionMs, t.queue, p.batchSize, ctx.clockNow()],
        )
        if (rows.length > 0) {
          await deleteJobs(
            c,
            rows.map((r) => r.id),
          )
        }
        return rows.length
      })
      deleted += n
      if (n < p.batchSize) break
    }
  }
  return deleted
}
