/** Operator actions on jobs (cancel, retry, reprioritise, promote, remove) and retention. */
import { notFound } from '../../core/errors.js'
import { assertTransition, decideRetry, type JobAction, sourcesOf } from '../../core/states.js'
import type { Job, JobStatus } from '../../core/types.js'
import { rowToJob } from '../rows.js'
import { statusList } from '../sql.js'
import type { CleanupParams } from '../store.js'
import { closeAttempt } from './attempts.js'
import { decode, type SqliteContext } from './db.js'
import { onFailedForGood } from './dependencies.js'
import { insertStateEvent } from './events.js'
import { assertTerm } from './leadership.js'

type Row = Record<string, unknown>

/** The job's row, when `action` may start from its status (NOT_FOUND or INVALID_STATE otherwise). */
function rowFor(ctx: SqliteContext, action: JobAction, id: string): Row {
  const row = loadRow(ctx, id)
  assertTransition(action, id, row.status as JobStatus)
  return row
}

function loadRow(ctx: SqliteContext, id: string): Row {
  const row = ctx.stmt('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined
  if (!row) throw notFound('job', id)
  return row
}

export function cancelJob(ctx: SqliteContext, id: string): Job {
  return ctx.tx(() => {
    const now = ctx.now()
    const row = rowFor(ctx, 'cancel', id)
    // A cancelled lease is remembered, so its worker is told why it lost it.
    const updated = ctx
      .stmt(
        `UPDATE jobs SET status = 'cancelled', finished_at = ?,
           lease_ended_token = coalesce(lease_token, lease_ended_token),
           lease_ended_reason = CASE WHEN lease_token IS NULL THEN lease_ended_reason ELSE 'cancelled' END,
           lease_ended_attempt = CASE WHEN lease_token IS NULL THEN lease_ended_attempt ELSE attempts END,
           lease_token = NULL, lease_expires_at = NULL
         WHERE id = ? RETURNING *`,
      )
      .get(now, id) as Row
    insertStateEvent(ctx, id, String(row.queue), 'cancelled', now)
    if (row.status === 'active') closeAttempt(ctx, id, 'cancelled', null, now)
    if (row.has_dependents) onFailedForGood(ctx, id, 'was cancelled', now)
    return rowToJob(updated, decode)
  })
}

export function retryJob(ctx: SqliteContext, id: string): Job {
  return ctx.tx(() => {
    const now = ctx.now()
    const row = rowFor(ctx, 'retry', id)
    const upstream = ctx
      .stmt(
        // Unfinished for the dependency's type: a finished upstream no longer holds up a completion dependency.
        `SELECT d.depends_on AS id, j.status FROM job_dependencies d JOIN jobs j ON j.id = d.depends_on
         WHERE d.job_id = ? AND j.status <> 'completed'
           AND NOT (d.type = 'completion' AND j.status IN ('failed','cancelled'))`,
      )
      .all(id) as { id: string; status: JobStatus }[]
    const mode = (ctx.stmt('SELECT mode FROM queues WHERE name = ?').get(row.queue) as { mode: string })?.mode
    const { status, pendingDependencies } = decideRetry(id, upstream, mode === 'manual')
    const updated = ctx
      .stmt(
        // Attempts start again from 0; the last lease's attempt moves with them (see core/leases.ts).
        // A retried job no longer expires: whoever retries it wants it run, however late.
        `UPDATE jobs SET status = ?, attempts = 0, lease_ended_attempt = lease_ended_attempt - attempts, expires_at = NULL,
           run_at = ?, pending_deps = ?, finished_at = NULL, result = NULL,
           duration_ms = NULL, progress_percent = 0, progress_step = NULL, progress_message = NULL
         WHERE id = ? RETURNING *`,
      )
      .get(status, now, pendingDependencies, id) as Row
    insertStateEvent(ctx, id, String(row.queue), status, now)
    return rowToJob(updated, decode)
  })
}

export function setPriority(ctx: SqliteContext, id: string, priority: number): Job {
  return ctx.tx(() => {
    rowFor(ctx, 'reprioritise', id)
    return rowToJob(
      ctx.stmt('UPDATE jobs SET priority = ? WHERE id = ? RETURNING *').get(priority, id) as Row,
      decode,
    )
  })
}

export function promoteJobs(ctx: SqliteContext, target: { ids: string[] } | { queue: string }): number {
  return ctx.tx(() => {
    const now = ctx.now()
    let rows: { id: string; queue: string }[]
    if ('ids' in target) {
      for (const id of target.ids) assertTransition('promote', id, loadRow(ctx, id).status as JobStatus)
      rows = target.ids.map((id) => ({ id, queue: String(loadRow(ctx, id).queue) }))
    } else {
      if (!ctx.stmt('SELECT 1 FROM queues WHERE name = ?').get(target.queue))
        throw notFound('queue', target.queue)
      rows = ctx.stmt(`SELECT id, queue FROM jobs WHERE queue = ? AND status = 'held'`).all(target.queue) as {
        id: string
        queue: string
      }[]
    }
    for (const r of rows) {
      ctx
        .stmt(
          `UPDATE jobs SET status = 'waiting', run_at = min(run_at, ?) WHERE id = ? AND status IN ${statusList(sourcesOf('promote'))}`,
        )
        .run(now, r.id)
      insertStateEvent(ctx, r.id, r.queue, 'waiting', now)
    }
    return rows.length
  })
}

export function removeJob(ctx: SqliteContext, id: string): void {
  ctx.tx(() => {
    const now = ctx.now()
    const row = rowFor(ctx, 'remove', id)
    if (row.has_dependents) onFailedForGood(ctx, id, 'was removed', now)
    deleteJobs(ctx, [id])
  })
}

function deleteJobs(ctx: SqliteContext, ids: string[]): void {
  for (const id of ids) {
    ctx.stmt('DELETE FROM events WHERE job_id = ?').run(id)
    ctx.stmt('DELETE FROM job_dependencies WHERE job_id = ?').run(id)
    ctx.stmt('DELETE FROM jobs WHERE id = ?').run(id)
  }
}

/** Deletes finished jobs in batches, each its own short transaction so writers are never held up for long. */
export function cleanup(ctx: SqliteContext, p: CleanupParams): number {
  const now = ctx.now()
  const targets: { queue: string | null; before: number }[] = []
  if (p.olderThanMs !== null) {
    targets.push({ queue: p.queue, before: now - p.olderThanMs })
  } else {
    const queues = (
      p.queue === null
        ? ctx.stmt('SELECT name, retention_ms FROM queues WHERE retention_ms IS NOT NULL').all()
        : ctx
            .stmt('SELECT name, retention_ms FROM queues WHERE retention_ms IS NOT NULL AND name = ?')
            .all(p.queue)
    ) as { name: string; retention_ms: number }[]
    for (const q of queues) targets.push({ queue: q.name, before: now - q.retention_ms })
  }
  let deleted = 0
  for (const t of targets) {
    for (;;) {
      const n = ctx.tx(() => {
        assertTerm(ctx, p.fence, ctx.now())
        const ids = (
          t.queue === null
            ? ctx.stmt('SELECT id FROM jobs WHERE finished_at < ? LIMIT ?').all(t.before, p.batchSize)
            : ctx
                .stmt('SELECT id FROM jobs WHERE finished_at < ? AND queue = ? LIMIT ?')
                .all(t.before, t.queue, p.batchSize)
        ) as { id: string }[]
        deleteJobs(
          ctx,
          ids.map((r) => r.id),
        )
        return ids.length
      })
      deleted += n
      if (n < p.batchSize) break
    }
  }
  return deleted
}
