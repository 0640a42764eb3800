/**
 * The bounds of the values a job queue is about: a lease's length, a worker's
 * id, a job's id, a queue's name and a duration. Each is decided here once.
 * The library (the options schemas of core/options.ts, which Docket and the
 * Worker parse with), the worker protocol (docket/worker-protocol.ts) and the
 * HTTP routes (server/routes/, and so the OpenAPI document generated from
 * them) all check with these schemas, so a value one of them accepts the
 * others accept, and a refusal reads the same from each.
 *
 * Each schema gives one message for every way a value can miss it (wrong
 * type, not whole, too small, too long), and the message states the whole
 * rule, so whoever reads it learns what to send without a second try. Each
 * check aborts the rest: a value that fails two ways is told once.
 */
import { z } from 'zod'
import { invalidArgument } from './errors.js'
import { textIssue } from './json.js'

const HOUR_MS = 3600 * 1000
const DAY_MS = 24 * HOUR_MS

/** A whole number of milliseconds from `min` to `max`, refused with `rule` whatever is wrong with it. */
function wholeMs(min: number, max: number, rule: string) {
  const error = { error: rule, abort: true }
  return z.number(error).int(error).min(min, error).max(max, error)
}

// Lease length

/**
 * A lease is how long a worker may go silent before its job goes to another
 * worker; a worker extends it (every third of it, by default) while the job
 * runs, so it does not bound how long a job may run. 24 hours is the ceiling:
 * a worker that dies holding a longer lease leaves its job stuck for longer
 * than anyone waits for a retry (graphile-worker gives up on a lock after 4
 * hours, BullMQ's default lock is 30 s, Docket's default 30 s). 50 ms is the
 * floor: about the shortest lease a heartbeat on a local database keeps, which
 * tests and a worker beside its database do use. HTTP took only 1 s to 1 h
 * before this was one rule; every value it took is still taken.
 */
export const MIN_LEASE_MS = 50
export const MAX_LEASE_MS = DAY_MS
export const LEASE_RULE = `expected a lease length: a whole number of milliseconds from ${MIN_LEASE_MS} to ${MAX_LEASE_MS} (24 hours)`
export const leaseMs = wholeMs(MIN_LEASE_MS, MAX_LEASE_MS, LEASE_RULE)

// Duration

/**
 * A duration given to Docket (a delay, a backoff, a retry-after, a snooze, a
 * retention): from 0 to ten years. Ten years is "never" in a job queue while
 * staying far inside what a date and an SQL interval can hold.
 */
export const MAX_DURATION_MS = 10 * 365 * DAY_MS
export const DURATION_RULE = `expected a duration: a whole number of milliseconds from 0 to ${MAX_DURATION_MS} (ten years)`
export const durationMs = wholeMs(0, MAX_DURATION_MS, DURATION_RULE)
/** A duration that cannot be 0 (a time to live, an expiry): the same ceiling. */
export const POSITIVE_DURATION_RULE = `expected a duration: a whole number of milliseconds from 1 to ${MAX_DURATION_MS} (ten years)`
export const positiveDurationMs = wholeMs(1, MAX_DURATION_MS, POSITIVE_DURATION_RULE)

// Worker id

/**
 * A worker's name in the registry and in each job's lease: 1 to 200
 * characters (docs/remote-workers.md promises that), of text every driver
 * stores as it is. Any characters otherwise: a worker names itself after its
 * host, its pid, its pod, and Docket makes up `remote:<ip>:<random>`.
 */
export const MAX_WORKER_ID_LENGTH = 200
export const WORKER_ID_RULE = `expected a worker id: 1-${MAX_WORKER_ID_LENGTH} characters`
export const workerId = z
  .string({ error: WORKER_ID_RULE })
  .min(1, { error: WORKER_ID_RULE, abort: true })
  .max(MAX_WORKER_ID_LENGTH, { error: WORKER_ID_RULE, abort: true })
  .superRefine((text, ctx) => {
    const problem = textIssue(text)
    if (problem) ctx.addIssue({ code: 'custom', message: `a worker id may not contain ${problem}` })
  })

// Job id (and the other ids Docket makes)

/**
 * An id Docket made or accepts: any 8-4-4-4-12 hex string, in either case
 * (Docket makes UUIDv7s; a caller may choose a job's id). Jobs, batches,
 * artifacts, schedules and API keys have one. `what` names it in the error,
 * e.g. 'a job id'.
 */
export const uuid = (what: string) => z.guid({ error: `expected ${what} (a UUID)` })
/** A job's id, in the lower case Docket stores it in. */
// overwrite, not transform: the type stays a string, so the OpenAPI document can describe it (a transform is dropped there).
export const jobId = uuid('a job id').overwrite((id) => id.toLowerCase())
const anyUuid = z.guid()
export const isJobId = (value: unknown): value is string => anyUuid.safeParse(value).success

// Queue name

/**
 * 1 to 128 letters, digits and . _ : -, starting with a letter or digit: a
 * name that reads the same in a URL path, a shell, a log line and a metric
 * label without quoting (the README and docs/remote-workers.md give this rule).
 */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/
export const QUEUE_NAME_RULE =
  'expected a queue name of 1-128 characters: letters, digits and . _ : - (starting with a letter or digit)'
export const queueName = z.string({ error: QUEUE_NAME_RULE }).regex(QUEUE_NAME_PATTERN, QUEUE_NAME_RULE)

/**
 * The longest path parameter the HTTP server takes, percent-encoded: the
 * longest id a path carries (a worker id) with every character at its longest
 * encoding (3 UTF-8 bytes per UTF-16 unit, 3 characters per byte).
 */
export const MAX_PATH_PARAM_LENGTH = MAX_WORKER_ID_LENGTH * 9

/**
 * Checks one argument against its bound: the value (as the schema outputs it),
 * or INVALID_ARGUMENT naming `field`, whose one issue has the bound's message,
 * the same message an options object or an HTTP body with that field gets.
 */
export function checkBound<S extends z.ZodType>(schema: S, value: unknown, field: string): z.output<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const message = result.error.issues[0]?.message ?? 'invalid'
  throw invalidArgument(`invalid ${field} ${preview(value)}: ${message}`, [{ path: field, message }])
}

/** The value as an error message quotes it: JSON (a number as it is), cut short. */
function preview(value: unknown): string {
  let text: string
  try {
    text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? typeof value)
  } catch {
    text = typeof value
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
