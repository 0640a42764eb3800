/**
 * A job's attempts on PostgreSQL (core/attempts.ts). claim_jobs opens them and
 * complete_jobs closes them in SQL (migration 0009); every other end of a
 * lease closes them here, inside the caller's transaction.
 */
import { type Attempt, type AttemptError, type AttemptOutcome, attemptBounds } from '../../core/attempts.js'
import { rowToAttempt } from '../rows.js'
import { NOW } from './clock.js'
import { decode, type PgContext, type Queryable } from './db.js'

/** Closes the running attempt of each job (`errors[i]` for `ids[i]`), then keeps their attempts within bounds. */
export async function closeAttempts(
  c: Queryable,
  ids: string[],
  outcome: AttemptOutcome,
  errors: (AttemptError | null)[] | null,
  now: Date | null,
): Promise<void> {
  if (ids.length === 0) return
  const rows = await c.query<{ job_id: string; seq: number }>(
    `UPDATE job_attempts a SET finished_at = ${NOW(4)}, outcome = $3, error = t.error
     FROM unnest($1::uuid[], $2::jsonb[]) AS t(id, error)
     WHERE a.job_id = t.id AND a.finished_at IS NULL RETURNING a.job_id, a.seq`,
    [ids, ids.map((_, i) => json(errors?.[i] ?? null)), outcome, now],
  )
  await bound(
    c,
    rows.map((r) => ({ id: r.job_id, seq: Number(r.seq) })),
  )
}

/** Records attempts no worker made (expiries), finished at once. */
export async function recordAttempts(
  c: Queryable,
  jobs: { id: string; attempt: number; error: AttemptError | null }[],
  outcome: AttemptOutcome,
  now: Date | null,
): Promise<void> {
  if (jobs.length === 0) return
  await c.query(
    `INSERT INTO job_attempts (job_id, seq, attempt, finished_at, outcome, error)
     SELECT t.id, coalesce((SELECT max(a.seq) FROM job_attempts a WHERE a.job_id = t.id), 0) + 1,
       t.attempt, ${NOW(5)}, $4, t.error
     FROM unnest($1::uuid[], $2::int[], $3::jsonb[]) AS t(id, attempt, error)`,
    [jobs.map((j) => j.id), jobs.map((j) => j.attempt), jobs.map((j) => json(j.error)), outcome, now],
  )
}

const json = (value: unknown): string | null => (value === null ? null : JSON.stringify(value))

async function bound(c: Queryable, closed: { id: string; seq: number }[]): Promise<void> {
  const strip = closed.flatMap((r) => {
    const upTo = attemptBounds(r.seq).stripStacksThrough
    return upTo === null ? [] : [{ id: r.id, upTo }]
  })
  const drop = closed.flatMap((r) => {
    const upTo = attemptBounds(r.seq).deleteThrough
    return upTo === null ? [] : [{ id: r.id, upTo }]
  })
  if (strip.length > 0)
    await c.query(
      `UPDATE job_attempts a SET error = jsonb_set(a.error, '{stack}', 'null')
       FROM unnest($1::uuid[], $2::int[]) AS t(id, up_to)
       WHERE a.job_id = t.id AND a.seq <= t.up_to AND a.error->>'stack' IS NOT NULL`,
      [strip.map((s) => s.id), strip.map((s) => s.upTo)],
    )
  if (drop.length > 0)
    await c.query(
      `DELETE FROM job_attempts a USING unnest($1::uuid[], $2::int[]) AS t(id, up_to)
       WHERE a.job_id = t.id AND a.seq <= t.up_to`,
      [drop.map((s) => s.id), drop.map((s) => s.upTo)],
    )
}

export async function getJobAttempts(ctx: PgContext, id: string): Promise<Attempt[]> {
  const rows = await ctx.query('SELECT * FROM job_attempts WHERE job_id = $1 ORDER BY seq', [id])
  return rows.map((r) => rowToAttempt(r, decode))
}
