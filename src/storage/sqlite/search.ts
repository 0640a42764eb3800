/**
 * Bounded searches on SQLite. better-sqlite3 answers on the event loop's
 * thread, so one slow statement holds up every other request of the process
 * (and it has no progress handler to interrupt one). Two things bound a job
 * list's `search` and `where`:
 *
 * - The text search is a function of Docket's own, `docket_contains`, not
 *   LIKE: LIKE's `%…%` matching backtracks, so a pattern such as 199 × `a`
 *   then `b` over a 900 KiB payload of `a`s costs 180 million steps a row
 *   (seconds for 20 rows). `docket_contains` lower-cases both texts and looks
 *   with JavaScript's `includes`, whose cost grows with the text, not with
 *   text times pattern (tens of milliseconds for the same 20 rows). The text
 *   it looks in is at most a payload (maxPayloadBytes) and an error message;
 *   the search term at most 200 characters (core/job-search.ts SEARCH_MAX).
 * - Every row the statement looks at first asks `docket_in_budget()`, which
 *   throws once the statement has run for its time budget (DocketOptions
 *   searchTimeoutMs, 2 s by default); the statement stops there and the
 *   caller is told to narrow the search (400), instead of the process
 *   freezing for as long as the scan takes.
 */
import { searchTimedOut } from '../../core/job-search.js'
import type { Db } from './db.js'

/** How long one list statement with `search` or `where` may run on SQLite, by default. */
export const SQLITE_SEARCH_TIMEOUT_MS = 2_000

/** The error the budget function throws, recognised again when the statement fails with it. */
class SearchOverBudget extends Error {
  override readonly name = 'SearchOverBudget'
}

/** The running statement's deadline (performance.now() time), per database handle: one statement runs at a time. */
export interface SearchBudget {
  deadline: number
  timeoutMs: number
}

/** Registers docket_contains and docket_in_budget on `db`; returns the budget they read. */
export function registerSearchFunctions(db: Db, timeoutMs = SQLITE_SEARCH_TIMEOUT_MS): SearchBudget {
  const budget: SearchBudget = { deadline: Number.POSITIVE_INFINITY, timeoutMs }
  const check = () => {
    if (performance.now() > budget.deadline) throw new SearchOverBudget('search over its time budget')
  }
  db.function('docket_in_budget', { deterministic: false }, () => {
    check()
    return 1
  })
  // `needle` comes lower-cased; null (no error message) contains nothing.
  db.function('docket_contains', { deterministic: false }, (haystack: unknown, needle: unknown) => {
    check()
    if (haystack === null || haystack === undefined) return 0
    return String(haystack).toLowerCase().includes(String(needle)) ? 1 : 0
  })
  return budget
}

/**
 * Runs one list statement under the budget when it searches (`what`: the
 * option it searches with); past it, INVALID_ARGUMENT saying so and what to do.
 */
export function withinBudget<T>(budget: SearchBudget, what: 'search' | 'where' | null, run: () => T): T {
  if (what === null) return run()
  budget.deadline = performance.now() + budget.timeoutMs
  try {
    return run()
  } catch (error) {
    if (error instanceof SearchOverBudget || (error as Error)?.name === 'SearchOverBudget')
      throw searchTimedOut(what, budget.timeoutMs)
    throw error
  } finally {
    budget.deadline = Number.POSITIVE_INFINITY
  }
}
