/**
 * Every error Docket raises on purpose is a DocketError with a stable `code`.
 * Codes map one-to-one onto HTTP statuses so the server never has to guess,
 * and `details` carries what the caller needs to fix the call (field paths,
 * the current state, the id that was not found).
 */
import { explainLeaseLost, type LeaseLostReason, type LeaseOutcome } from './leases.js'

export const ERROR_CODES = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_STATE: 409,
  LEASE_LOST: 409,
  LEADERSHIP_LOST: 409,
  /** Only from the library's waits (docket.waitForJob); the HTTP route answers 202 with the job instead. */
  WAIT_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  /** (server) A live feed past the open feeds allowed per key or per server; after RATE_LIMITED, so a plugin's 429 stays RATE_LIMITED. */
  TOO_MANY_FEEDS: 429,
  CLOSED: 503,
  SCHEMA_NEWER: 503,
  SCHEMA_OLDER: 503,
  INTERNAL: 500,
  /** Only from Docket.open (no route raises it); after INTERNAL, so a plugin's 500 stays INTERNAL. */
  SQLITE_DRIVER_MISSING: 500,
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `jobs.3.priority`. Empty for the whole value. */
  path: string
  message: string
}

export interface ErrorDetails {
  issues?: FieldIssue[]
  [key: string]: unknown
}

export class DocketError extends Error {
  override readonly name = 'DocketError'
  readonly code: ErrorCode
  readonly details: ErrorDetails

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message)
    this.code = code
    this.details = details
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code]
  }

  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details }
  }
}

export function isDocketError(error: unknown, code?: ErrorCode): error is DocketError {
  return error instanceof DocketError && (code === undefined || error.code === code)
}

export const invalidArgument = (message: string, issues: FieldIssue[] = []): DocketError =>
  new DocketError('INVALID_ARGUMENT', message, issues.length > 0 ? { issues } : {})

export const notFound = (what: string, id: string): DocketError =>
  new DocketError('NOT_FOUND', `${what} '${id}' does not exist`, { resource: what, id })

export const conflict = (message: string, details: ErrorDetails = {}): DocketError =>
  new DocketError('CONFLICT', message, details)

export const leaseLost = (jobId: string, reason: LeaseLostReason): DocketError =>
  new DocketError(
    'LEASE_LOST',
    `the lease on job '${jobId}' is no longer held by this worker: ${explainLeaseLost(reason)}`,
    { jobId, reason },
  )

/** The one way a lease outcome becomes an error: LEASE_LOST naming the job and why, unless the lease held. */
export function assertLeaseHeld(outcome: LeaseOutcome): void {
  if (!outcome.ok) throw leaseLost(outcome.id, outcome.reason)
}

export const leadershipLost = (name: string, holder: string, term: number): DocketError =>
  new DocketError(
    'LEADERSHIP_LOST',
    `'${holder}' no longer leads '${name}' in term ${term} (its leadership lease expired or passed to another process)`,
    { name, holder, term },
  )

/** A wait for a job's end that ran out (docket.waitForJob, and docket/client's, which long-polls the result route). */
export const waitTimeout = (id: string, timeoutMs: number, status: string): DocketError =>
  new DocketError('WAIT_TIMEOUT', `job '${id}' has not ended after ${timeoutMs} ms (it is ${status})`, {
    id,
    status,
    timeoutMs,
  })
