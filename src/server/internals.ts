/**
 * What the server reaches behind a Docket and a library user does not: API
 * keys, dashboard sessions and viewer tokens (docket/access.ts checks each
 * record before it is written), and the dashboard's own reads.
 */

import type { Access } from '../docket/access.js'
import type { DashboardReads } from '../docket/dashboard.js'
import { internalsOf } from '../docket/internals.js'
import type { Docket } from '../docket.js'

export const accessOf = (docket: Docket): Access => internalsOf(docket).access

export const dashboardReadsOf = (docket: Docket): DashboardReads => internalsOf(docket).dashboard
