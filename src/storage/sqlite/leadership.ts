/**
 * Maintenance leadership on SQLite: a lease row per name (holder, term,
 * expiry), and the fence every maintenance write checks inside its own
 * IMMEDIATE transaction, so no takeover can come between the check and the
 * write.
 *
 * Times come from each process's own clock (`Date.now()`), and a row one
 * process wrote is judged by another. On one machine that is one clock. To
 * stay safe against a small skew (a clock stepped by NTP, a file shared
 * between machines) the rule is conservative on both sides: a holder trusts
 * its lease only until `expires_at` by its own clock, and anyone else takes it
 * over, or recovers a job's lease in a maintenance pass, only
 * CLOCK_SKEW_TOLERANCE_MS later by theirs. Clocks further apart than that can
 * give two leaders at once for a moment; the term fence still refuses the
 * older one's writes.
 */
import { leadershipLost } from '../../core/errors.js'
import type { LeaderTerm } from '../store.js'
import type { SqliteContext } from './db.js'

export const CLOCK_SKEW_TOLERANCE_MS = 100

interface LeaseRow {
  holder: string
  term: number
  expires_at: number
}

export function acquireLeadership(
  ctx: SqliteContext,
  name: string,
  holder: string,
  ttlMs: number,
): LeaderTerm | null {
  return ctx.tx(() => {
    const now = ctx.now()
    const row = ctx.stmt('SELECT holder, term, expires_at FROM leader_leases WHERE name = ?').get(name) as
      | LeaseRow
      | undefined
    const expiresAt = now + ttlMs
    if (!row) {
      ctx
        .stmt('INSERT INTO leader_leases (name, holder, term, expires_at) VALUES (?, ?, 1, ?)')
        .run(name, holder, expiresAt)
      return { name, holder, term: 1 }
    }
    const ours = row.holder === holder
    if (ours && row.expires_at > now) {
      ctx.stmt('UPDATE leader_leases SET expires_at = ? WHERE name = ?').run(expiresAt, name)
      return { name, holder, term: Number(row.term) }
    }
    if (!ours && row.expires_at + CLOCK_SKEW_TOLERANCE_MS > now) return null
    // Lapsed (or ours, but lapsed): a new term, so whatever the old one still has in flight is refused.
    const term = Number(row.term) + 1
    ctx
      .stmt('UPDATE leader_leases SET holder = ?, term = ?, expires_at = ? WHERE name = ?')
      .run(holder, term, expiresAt, name)
    return { name, holder, term }
  })
}

/** Ends the term: the row stays (terms only ever go up) but lapses at once. */
export function releaseLeadership(ctx: SqliteContext, t: LeaderTerm): void {
  ctx
    .stmt('UPDATE leader_leases SET expires_at = 0 WHERE name = ? AND holder = ? AND term = ?')
    .run(t.name, t.holder, t.term)
}

/** The fence: inside the caller's transaction, refuses unless `fence` is the current, unexpired term. */
export function assertTerm(ctx: SqliteContext, fence: LeaderTerm | undefined, now: number): void {
  if (!fence) return
  const current = ctx
    .stmt('SELECT 1 FROM leader_leases WHERE name = ? AND holder = ? AND term = ? AND expires_at > ?')
    .get(fence.name, fence.holder, fence.term, now)
  if (!current) throw leadershipLost(fence.name, fence.holder, fence.term)
}

/**
 * Leases that expired at or before this count as expired. A maintenance pass (fenced) judges
 * leases another process's clock set, so it allows for skew; an explicit call takes the clock as is.
 */
export function expiredAtOrBefore(now: number, fence: LeaderTerm | undefined): number {
  return fence ? now - CLOCK_SKEW_TOLERANCE_MS : now
}
