/**
 * Named leadership leases: one holder at a time per name, across every
 * process on the database. A term number fences the holder's writes, so a
 * leader that was frozen past its lease cannot act after another took over
 * (LEADERSHIP_LOST). The maintenance pass (worker/maintenance.ts) runs under one.
 */
import { invalidArgument } from '../core/errors.js'
import type { LeaderTerm } from '../core/types.js'
import type { Store } from '../storage/store.js'

function checkName(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw invalidArgument(`${path} must be a string of 1-200 characters`, [
      { path, message: 'expected 1-200 characters' },
    ])
  }
  return value
}

export class Leadership {
  readonly #store: () => Store

  constructor(store: () => Store) {
    this.#store = store
  }

  /** Takes or renews the lease `name` for `holder`; null while someone else holds it. A renewal keeps the term. */
  async acquire(name: string, holder: string, ttlMs: number): Promise<LeaderTerm | null> {
    if (!Number.isInteger(ttlMs) || ttlMs < 10 || ttlMs > 24 * 3600_000) {
      throw invalidArgument('ttlMs must be an integer from 10 to 86400000', [
        { path: 'ttlMs', message: 'expected 10-86400000' },
      ])
    }
    return this.#store().acquireLeadership(checkName(name, 'name'), checkName(holder, 'holder'), ttlMs)
  }

  /** Gives the lease up now, so that another takes over without waiting it out; a term already over changes nothing. */
  async release(term: LeaderTerm): Promise<void> {
    await this.#store().releaseLeadership(term)
  }
}
