/** Job states and which actions each allows: the rules come from the server's own state machine. */
import { canTransition, type JobAction } from '../../../src/core/states.js'
import { JOB_STATUSES, type JobStatus } from '../../../src/core/types.js'

export type { JobStatus }
export { JOB_STATUSES }

export const can = (action: JobAction, status: JobStatus) => canTransition(action, status)

export const isFinal = (s: JobStatus) => s === 'completed' || s === 'failed' || s === 'cancelled'

/** The columns of the board, in order. */
export const BOARD_COLUMNS: JobStatus[] = ['held', 'waiting', 'active', 'completed', 'failed']
