/** SQL text both drivers build from core's lists, so a list of statuses is written once. */
import { type JobStatus, LIVE_STATUSES } from '../core/types.js'

/** A list of statuses as SQL, `('waiting','scheduled')`. Statuses are fixed words from core, never input. */
export const statusList = (statuses: readonly JobStatus[]): string =>
  `(${statuses.map((s) => `'${s}'`).join(',')})`

/** Jobs with work ahead of them (core's LIVE_STATUSES). */
export const LIVE = statusList(LIVE_STATUSES)
