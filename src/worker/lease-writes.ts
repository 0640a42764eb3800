/**
 * A worker's report of how an attempt ended (its completion, its failure) is
 * written again while the database cannot take it (a restart, a network
 * blip, a deadlock with another statement) and the lease still holds, so a
 * finished or failed attempt is not left to expire and run again just
 * because its report was late. A DocketError is an answer, not a failure to
 * reach the database, and is never retried; if the first try did commit and
 * only its answer was lost, the next one finds the lease ended (LEASE_LOST).
 */
import { isDocketError } from '../core/errors.js'
import type { Docket } from '../docket.js'

export async function writeWhileLeased<T>(
  docket: Docket,
  /** The lease expiry, in epoch ms by Docket's clock (the one leases are measured by). */
  deadlineMs: number,
  write: () => Promise<T>,
): Promise<T> {
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await write()
    } catch (error) {
      if (isDocketError(error) || docket.now().getTime() + delay >= deadlineMs) throw error
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}
