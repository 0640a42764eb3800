/**
 * A job's attempts on SQLite (core/attempts.ts): opened by the claim, closed
 * by whatever ends the lease, always inside the caller's transaction.
 */
import { type Attempt, type AttemptError, type AttemptOutcome, attemptBounds } from '../../core/attempts.js'
import { rowToAttempt } from '../rows.js'
import { decode, type SqliteContext } from './db.js'

export function openAttempt(
  ctx: SqliteContext,
  jobId: string,
  attempt: number,
  workerId: string,
  now: number,
): void {
  ctx
    .stmt(
      `INSERT INTO job_attempts (job_id, seq, attempt, worker_id, started_at, outcome)
       VALUES (?, coalesce((SELECT max(seq) FROM job_attempts WHERE job_id = ?), 0) + 1, ?, ?, ?, 'running')`,
    )
    .run(jobId, jobId, attempt, workerId, now)
}

/** Closes the job's running attempt, if it has one, then keeps the job's attempts within their bounds. */
export function closeAttempt(
  ctx: SqliteContext,
  jobId: string,
  outcome: AttemptOutcome,
  error: AttemptError | null,
  now: number,
): void {
  const row = ctx
    .stmt(
      `UPDATE job_attempts SET finished_at = ?, outcome = ?, error = ?
       WHERE job_id = ? AND finished_at IS NULL RETURNING seq`,
    )
    .get(now, outcome, error === null ? null : JSON.stringify(error), jobId) as { seq: number } | undefined
  if (row) bound(ctx, jobId, row.seq)
}

/** Records an attempt no worker made (an expiry), finished at once. */
export function recordAttempt(
  ctx: SqliteContext,
  jobId: string,
  attempt: number,
  outcome: AttemptOutcome,
  error: AttemptError | null,
  now: number,
): void {
  ctx
    .stmt(
      `INSERT INTO job_attempts (job_id, seq, attempt, finished_at, outcome, error)
       VALUES (?, coalesce((SELECT max(seq) FROM job_attempts WHERE job_id = ?), 0) + 1, ?, ?, ?, ?)`,
    )
    .run(jobId, jobId, attempt, now, outcome, error === null ? null : JSON.stringify(error))
}

function bound(ctx: SqliteContext, jobId: string, seq: number): void {
  const { stripStacksThrough, deleteThrough } = attemptBounds(seq)
  if (stripStacksThrough !== null)
    ctx
      .stmt(
        `UPDATE job_attempts SET error = json_set(error, '$.stack', NULL)
         WHERE job_id = ? AND seq <= ? AND json_extract(error, '$.stack') IS NOT NULL`,
      )
      .run(jobId, stripStacksThrough)
  if (deleteThrough !== null)
    ctx.stmt('DELETE FROM job_attempts WHERE job_id = ? AND seq <= ?').run(jobId, deleteThrough)
}

export function getJobAttempts(ctx: SqliteContext, jobId: string): Attempt[] {
  return (
    ctx.stmt('SELECT * FROM job_attempts WHERE job_id = ? ORDER BY seq').all(jobId) as Record<
      string,
      unknown
    >[]
  ).map((r) => rowToAttempt(r, decode))
}
