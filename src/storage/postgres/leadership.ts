/**
 * Maintenance leadership on PostgreSQL: a lease row per name (holder, term,
 * expiry by the database clock), taken over by anyone once it lapses, and
 * the fence every maintenance write checks first in its own transaction.
 *
 * It used to be a session advisory lock, held as long as the leader's
 * connection lived: a leader frozen by SIGSTOP, a stalled event loop or a
 * paused VM kept its connection, so nobody recovered expired leases until it
 * woke. A lease expires whatever the holder's process is doing.
 */
import { leadershipLost } from '../../core/errors.js'
import type { LeaderTerm } from '../store.js'
import { NOW } from './clock.js'
import type { PgContext, Queryable } from './db.js'

/**
 * How long a fenced transaction may sit idle before PostgreSQL ends the session. The fence's
 * share lock holds off takeovers until the transaction ends, and a recovery pass holds job
 * rows: a leader frozen inside one must not keep either past about a second.
 */
const FENCED_IDLE_TIMEOUT_MS = 1_000

export async function acquireLeadership(
  ctx: PgContext,
  name: string,
  holder: string,
  ttlMs: number,
): Promise<LeaderTerm | null> {
  // A renewal (same holder, not lapsed) keeps the term; a takeover or a lapsed lease starts a new one.
  const rows = await ctx.query<{ term: number }>(
    `INSERT INTO leader_leases AS l (name, holder, term, expires_at)
     VALUES ($1, $2, 1, ${NOW(4)} + $3 * interval '1 millisecond')
     ON CONFLICT (name) DO UPDATE SET
       term = CASE WHEN l.holder = excluded.holder AND l.expires_at > ${NOW(4)} THEN l.term ELSE l.term + 1 END,
       holder = excluded.holder, expires_at = excluded.expires_at
     WHERE l.holder = excluded.holder OR l.expires_at <= ${NOW(4)}
     RETURNING term`,
    [name, holder, ttlMs, ctx.clockNow()],
  )
  const row = rows[0]
  return row ? { name, holder, term: Number(row.term) } : null
}

/** Ends the term: the row stays (terms only ever go up) but lapses at once. */
export async function releaseLeadership(ctx: PgContext, t: LeaderTerm): Promise<void> {
  await ctx.query(
    `UPDATE leader_leases SET expires_at = '-infinity' WHERE name = $1 AND holder = $2 AND term = $3`,
    [t.name, t.holder, t.term],
  )
}

/**
 * The fence, as the first statement of the caller's transaction: refuses unless `fence` is the
 * current term and unexpired by the database clock, and share-locks the row so no takeover
 * commits before this transaction does. It also bounds how long the transaction may idle.
 */
export async function assertTerm(
  c: Queryable,
  fence: LeaderTerm | undefined,
  now: Date | null,
): Promise<void> {
  if (!fence) return
  const rows = await c.query(
    `SELECT set_config('idle_in_transaction_session_timeout', $4, true) FROM leader_leases
     WHERE name = $1 AND holder = $2 AND term = $3 AND expires_at > ${NOW(5)} FOR SHARE`,
    [fence.name, fence.holder, fence.term, String(FENCED_IDLE_TIMEOUT_MS), now],
  )
  if (rows.length === 0) throw leadershipLost(fence.name, fence.holder, fence.term)
}

/**
 * For a transaction that locks rows without a leader's fence (a maintenance pass's lease sweep):
 * the same bound on how long it may idle, so a process frozen inside it holds no job row for
 * longer than about a second.
 */
export async function boundIdle(c: Queryable): Promise<void> {
  await c.query(`SELECT set_config('idle_in_transaction_session_timeout', $1, true)`, [
    String(FENCED_IDLE_TIMEOUT_MS),
  ])
}
