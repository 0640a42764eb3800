/**
 * The shapes callers may pass, validated at the edge of the library (and,
 * later, of the HTTP API). Every schema is strict: an unknown option is an
 * error, not silently ignored. `parse` turns zod's issues into one
 * INVALID_ARGUMENT DocketError whose message names each field.
 */
import { z } from 'zod'
import {
  durationMs,
  isJobId,
  jobId,
  leaseMs,
  positiveDurationMs,
  queueName,
  uuid,
  workerId,
} from './bounds.js'
import { type Clock, isClock } from './clock.js'
import { DEDUPE_MODES } from './dedupe.js'
import { DEPENDENCY_TYPES } from './dependencies.js'
import { type FieldIssue, invalidArgument } from './errors.js'
import { SEARCH_MAX, WHERE_MAX } from './job-search.js'
import { textIssue } from './json.js'
import { JOB_STATUSES } from './types.js'

export const PRIORITIES = { low: 25, normal: 50, high: 75, urgent: 100 } as const
export type PriorityName = keyof typeof PRIORITIES
export const MIN_PRIORITY = 0
export const MAX_PRIORITY = 100

// The five bounds every entry point shares are decided in core/bounds.ts; they are
// exported from here too, beside the options schemas that use them.
export { durationMs, isJobId, jobId, leaseMs, positiveDurationMs, queueName, uuid, workerId }

/** A name or tag given by a caller (a job type, an owner, a capability, a worker's host); also
 * stored inside JSON (capabilities), so only text every driver stores as it is. */
export const label = z
  .string()
  .min(1)
  .max(200)
  .superRefine((text, ctx) => {
    const problem = textIssue(text)
    if (problem) ctx.addIssue({ code: 'custom', message: `contains ${problem}` })
  })
/** A lease token as a worker sends it back (Docket makes UUIDs; anything else is a lost lease). */
export const leaseToken = z.string().min(1).max(100)
const positiveInt = z.number().int().min(1)

export const priority = z.union([
  z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY),
  z.enum(Object.keys(PRIORITIES) as [PriorityName, ...PriorityName[]]),
])

export const backoffInput = z.strictObject({
  type: z.enum(['fixed', 'exponential']).optional(),
  delayMs: durationMs.optional(),
  maxDelayMs: durationMs.optional(),
  jitter: z.number().min(0).max(1).optional(),
})

const queueFields = {
  description: z.string().max(2000).nullable().optional(),
  mode: z.enum(['automatic', 'manual']).optional(),
  status: z.enum(['active', 'paused']).optional(),
  concurrency: positiveInt.max(100_000).nullable().optional(),
  ordering: z.enum(['priority', 'fifo']).optional(),
  maxAttempts: positiveInt.max(1000).optional(),
  backoff: backoffInput.optional(),
  timeoutMs: positiveInt.nullable().optional(),
  retentionMs: durationMs.nullable().optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
  /** At most `max` starts in any window of `intervalMs` (a sliding window), across all workers. */
  rateLimit: z
    .strictObject({
      max: positiveInt.max(1_000_000),
      intervalMs: positiveInt.max(24 * 3600 * 1000),
      per: z.literal('group').optional(),
    })
    .nullable()
    .optional(),
  /** Most active jobs per group across all workers. */
  groupConcurrency: positiveInt.max(100_000).nullable().optional(),
  /** Round-robin between groups. */
  fair: z.boolean().optional(),
  /** A job's group is its owner; a group the add names is ignored (core/resolve.ts jobGroup). */
  groupByOwner: z.boolean().optional(),
}

export const queueCreateInput = z.strictObject({ name: queueName, ...queueFields })
export const queueUpdateInput = z.strictObject(queueFields)
export type QueueCreateInput = z.infer<typeof queueCreateInput>
export type QueueUpdateInput = z.infer<typeof queueUpdateInput>

/** The latest date JavaScript (and so Docket) can represent. */
const MAX_DATE_MS = 8_640_000_000_000_000
const dateLike = z
  .union([z.date(), z.string().datetime({ offset: true }), z.number().int().min(0).max(MAX_DATE_MS)])
  .refine((v) => !Number.isNaN(new Date(v).getTime()), 'expected a valid date')

export const jobInput = z
  .strictObject({
    id: jobId.optional(),
    queue: queueName,
    type: label,
    payload: z.unknown().optional(),
    priority: priority.optional(),
    runAt: dateLike.optional(),
    delayMs: durationMs.optional(),
    maxAttempts: positiveInt.max(1000).optional(),
    backoff: backoffInput.optional(),
    timeoutMs: positiveInt.nullable().optional(),
    owner: label.nullable().optional(),
    group: label.nullable().optional(),
    capabilities: z.array(label).max(50).optional(),
    dedupeKey: z.string().min(1).max(500).nullable().optional(),
    /** What an add whose key a live job holds does: keep (default), replace or debounce (core/dedupe.ts). */
    dedupeMode: z.enum(DEDUPE_MODES).optional(),
    /** A job with the key that finished less than this long ago also holds it (throttling). */
    dedupeTtlMs: positiveDurationMs.optional(),
    /** debounce: the job runs at most this long after the first add of the burst, with the latest payload. */
    dedupeMaxWaitMs: positiveDurationMs.optional(),
    /** Job ids (waiting for success), or `{ id, on: 'success' | 'completion' }` (core/dependencies.ts). */
    dependsOn: z
      .array(z.union([jobId, z.strictObject({ id: jobId, on: z.enum(DEPENDENCY_TYPES) })]))
      .max(1000)
      .optional(),
    estimatedDurationMs: durationMs.nullable().optional(),
    /** The job is not run unless it starts by then (core/expiry.ts). */
    expiresAt: dateLike.optional(),
    /** As expiresAt, counted from when the job is added. */
    expiresInMs: positiveDurationMs.optional(),
  })
  .refine((job) => !(job.runAt !== undefined && job.delayMs !== undefined), {
    message: 'give runAt or delayMs, not both',
    path: ['delayMs'],
  })
  .refine((job) => job.dedupeKey != null || job.dedupeMode === undefined, {
    message: 'dedupeMode needs a dedupeKey',
    path: ['dedupeMode'],
  })
  .refine((job) => job.dedupeKey != null || job.dedupeTtlMs === undefined, {
    message: 'dedupeTtlMs needs a dedupeKey',
    path: ['dedupeTtlMs'],
  })
  .refine((job) => job.dedupeMode === 'debounce' || job.dedupeMaxWaitMs === undefined, {
    message: "dedupeMaxWaitMs needs dedupeMode 'debounce'",
    path: ['dedupeMaxWaitMs'],
  })
  .refine((job) => !(job.expiresAt !== undefined && job.expiresInMs !== undefined), {
    message: 'give expiresAt or expiresInMs, not both',
    path: ['expiresInMs'],
  })
export type JobInput = z.input<typeof jobInput>

export const SORT_KEYS = ['createdAt', 'priority', 'runAt'] as const
export type SortKey = (typeof SORT_KEYS)[number]
const statusEnum = z.enum(JOB_STATUSES)

export const listJobsInput = z.strictObject({
  queue: queueName.optional(),
  status: z.union([statusEnum, z.array(statusEnum).min(1)]).optional(),
  type: label.optional(),
  owner: label.optional(),
  batchId: z.string().min(1).max(200).optional(),
  /** Jobs whose last error is of this class (core/fingerprint.ts): 12 hex characters, as the top errors give them. */
  fingerprint: z
    .string()
    .regex(/^[0-9a-f]{12}$/, 'expected an error fingerprint: 12 lowercase hex characters')
    .optional(),
  /** A job id, its first 6+ characters, or the 8-character short id (see core/job-search.ts). */
  id: z.string().min(1).max(100).optional(),
  /** Free text: an id prefix or short id, text in the payload, or in the last error's message. */
  search: z.string().max(SEARCH_MAX).optional(),
  /** Conditions on the payload, e.g. `payload.customerId = 42 and payload.user.email = "a@b.c"`. */
  where: z.string().min(1).max(WHERE_MAX).optional(),
  /** Also count the matching jobs (every page), up to COUNT_LIMIT. */
  count: z.boolean().optional(),
  limit: positiveInt.max(1000).optional(),
  cursor: z.string().min(1).max(1000).optional(),
  sort: z.enum(SORT_KEYS).optional(),
  order: z.enum(['asc', 'desc']).optional(),
})
export type ListJobsInput = z.infer<typeof listJobsInput>

export const listBatchesInput = z.strictObject({
  owner: label.optional(),
  before: z.string().min(1).max(200).optional(),
  limit: positiveInt.max(500).optional(),
})

export const suggestionsInput = z.strictObject({ owner: label.optional() })

export const claimInput = z.strictObject({
  workerId,
  queues: z.array(queueName).min(1).max(100),
  capabilities: z.array(label).max(50).optional(),
  limit: positiveInt.max(1000).optional(),
  leaseMs: leaseMs.optional(),
})
export type ClaimInput = z.infer<typeof claimInput>

/** A worker's entry in the registry, as a worker registers itself (the remote routes check their body the same way). */
export const workerRecordInput = z.strictObject({
  id: workerId,
  registeredBy: label.nullable().optional(),
  host: label,
  pid: z.number().int().min(0),
  kind: label,
  capabilities: z.array(label).max(50),
  queues: z.array(queueName).min(1).max(100),
  concurrency: positiveInt.max(10_000),
})

export const progressInput = z.strictObject({
  percent: z.number().min(0).max(100).optional(),
  step: z.string().max(200).nullable().optional(),
  message: z.string().max(2000).nullable().optional(),
})
export type ProgressInput = z.infer<typeof progressInput>

export const cleanupInput = z.strictObject({
  olderThanMs: durationMs.optional(),
  queue: queueName.optional(),
  batchSize: positiveInt.max(100_000).optional(),
})
export type CleanupInput = z.infer<typeof cleanupInput>

/** Validates `value` against `schema`, or throws INVALID_ARGUMENT listing every problem by field path. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  throw invalidArgument(
    `invalid ${what}: ${describeIssues(toFieldIssues(result.error))}`,
    toFieldIssues(result.error),
  )
}

export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String)
    // Zod reports unknown keys on the object that holds them; name each key instead.
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: [...path, key].join('.'), message: 'unknown field' }))
    return [{ path: path.join('.'), message: issue.message }]
  })
}

export function describeIssues(issues: FieldIssue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')
}

export function priorityValue(value: number | PriorityName | undefined): number {
  if (value === undefined) return PRIORITIES.normal
  return typeof value === 'number' ? value : PRIORITIES[value]
}

export const failOptions = z
  .strictObject({
    retryable: z.boolean().optional(),
    /** Retry after this long instead of the job's backoff (while it has attempts left). */
    retryInMs: durationMs.optional(),
  })
  .refine((o) => !(o.retryable === false && o.retryInMs !== undefined), {
    message: 'give retryInMs or retryable: false, not both',
    path: ['retryInMs'],
  })
export const deleteQueueOptions = z.strictObject({ force: z.boolean().optional() })
export const stepDetails = z.strictObject({
  durationMs: durationMs.optional(),
  message: z.string().max(2000).optional(),
})
export const eventsQuery = z.strictObject({
  afterId: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(10_000).optional(),
})
export const docketOptions = z.strictObject({
  artifacts: z
    .string()
    .regex(/^(database|local|s3:\/\/.+)$/, "expected 'database', 'local' or s3://bucket/prefix")
    .transform((v) => v as 'database' | 'local' | `s3://${string}`)
    .optional(),
  artifactsDir: z.string().min(1).optional(),
  directUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//i, 'expected a postgres:// URL')
    .optional(),
  maxArtifactBytes: z.number().int().min(1).optional(),
  maxPayloadBytes: z.number().int().min(1).optional(),
  defaultLeaseMs: leaseMs.optional(),
  clock: z.custom<Clock>(isClock, 'expected a clock: an object with now(): Date').optional(),
  database: z
    .custom<SqliteDatabase>(
      isSqliteHandle,
      'expected an open better-sqlite3 Database (an object with prepare, pragma and transaction)',
    )
    .optional(),
  migrate: z.boolean().optional(),
  searchTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
})

/**
 * An application's better-sqlite3 Database, as far as Docket's types say:
 * the package does not make its users install better-sqlite3's types.
 */
export interface SqliteDatabase {
  readonly name: string
  readonly inTransaction: boolean
  prepare(sql: string): unknown
  pragma(source: string, options?: { simple?: boolean }): unknown
  transaction(fn: (...args: never[]) => unknown): unknown
}
function isSqliteHandle(value: unknown): value is SqliteDatabase {
  const v = value as Record<string, unknown> | null
  return (
    typeof v === 'object' &&
    v !== null &&
    ['prepare', 'pragma', 'transaction'].every((k) => typeof v[k] === 'function') &&
    v.open !== false
  )
}

/**
 * A batch's `then`: one job that runs once every job of the batch is final,
 * whatever their outcomes (it depends on each with `completion`). It belongs
 * to the batch's owner and is not one of the batch's jobs.
 */
export const batchThen = z.strictObject({
  queue: queueName,
  type: label,
  payload: z.unknown().optional(),
  priority: priority.optional(),
  maxAttempts: positiveInt.max(1000).optional(),
  timeoutMs: positiveInt.nullable().optional(),
  capabilities: z.array(label).max(50).optional(),
})

export type BatchThenInput = z.input<typeof batchThen>

export const batchOptions = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  owner: z.string().min(1).max(200).optional(),
  // biome-ignore lint/suspicious/noThenProperty: the option's name is fixed by the API (issue 15); options are never awaited
  then: batchThen.optional(),
})
