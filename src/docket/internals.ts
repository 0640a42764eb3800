/**
 * What the server and the maintenance pass reach behind a Docket and a
 * library user does not: API keys and sessions (the server's), the fenced
 * maintenance writes (worker/maintenance.ts), the dashboard's reads. Kept
 * off the class, and not exported by the package, so the front door shows
 * only what a user writes.
 */
import type { Store } from '../storage/store.js'
import type { Access } from './access.js'
import type { DashboardReads } from './dashboard.js'
import type { MaintenanceTasks } from './maintenance.js'

export interface DocketInternals {
  access: Access
  maintenance: MaintenanceTasks
  dashboard: DashboardReads
  /** The Store itself, for tests only (docket/store-of.ts). */
  store: Store
}

const internals = new WeakMap<object, DocketInternals>()

export function registerInternals(docket: object, parts: DocketInternals): void {
  internals.set(docket, parts)
}

export function internalsOf(docket: object): DocketInternals {
  const parts = internals.get(docket)
  if (!parts) throw new Error('not a Docket')
  return parts
}
