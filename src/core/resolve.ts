/**
 * Turns validated caller input into the complete records the store writes:
 * defaults filled in from the queue, priority names turned into numbers,
 * dates parsed. Pure functions; the drivers call them inside their
 * transactions so that a job sees the queue's defaults as they are when it is added.
 */
import { DEFAULT_BACKOFF } from './backoff.js'
import type { DedupeMode } from './dedupe.js'
import type { DependencyType } from './dependencies.js'
import { invalidArgument } from './errors.js'
import { findNonJson } from './json.js'
import type { JobInput, QueueCreateInput, QueueUpdateInput } from './options.js'
import { priorityValue } from './options.js'
import type { BackoffPolicy, Queue, TraceContext } from './types.js'

export const DEFAULT_MAX_ATTEMPTS = 3

export type QueueRecord = Omit<Queue, 'createdAt' | 'updatedAt'>

export function resolveQueue(input: QueueCreateInput): QueueRecord {
  return {
    name: input.name,
    description: input.description ?? null,
    mode: input.mode ?? 'automatic',
    status: input.status ?? 'active',
    concurrency: input.concurrency ?? null,
    ordering: input.ordering ?? 'priority',
    defaults: {
      maxAttempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      backoff: resolveBackoff(DEFAULT_BACKOFF, input.backoff),
      timeoutMs: input.timeoutMs ?? null,
    },
    retentionMs: input.retentionMs ?? null,
    settings: jsonSettings(input.settings ?? {}),
    rateLimit: input.rateLimit ?? null,
    groupConcurrency: input.groupConcurrency ?? null,
    fair: input.fair ?? false,
    groupByOwner: input.groupByOwner ?? false,
  }
}

export function applyQueueUpdate(queue: QueueRecord, patch: QueueUpdateInput): QueueRecord {
  return {
    ...queue,
    description: patch.description !== undefined ? patch.description : queue.description,
    mode: patch.mode ?? queue.mode,
    status: patch.status ?? queue.status,
    concurrency: patch.concurrency !== undefined ? patch.concurrency : queue.concurrency,
    ordering: patch.ordering ?? queue.ordering,
    defaults: {
      maxAttempts: patch.maxAttempts ?? queue.defaults.maxAttempts,
      backoff: resolveBackoff(queue.defaults.backoff, patch.backoff),
      timeoutMs: patch.timeoutMs !== undefined ? patch.timeoutMs : queue.defaults.timeoutMs,
    },
    retentionMs: patch.retentionMs !== undefined ? patch.retentionMs : queue.retentionMs,
    settings: patch.settings !== undefined ? jsonSettings(patch.settings) : queue.settings,
    rateLimit: patch.rateLimit !== undefined ? patch.rateLimit : queue.rateLimit,
    groupConcurrency: patch.groupConcurrency !== undefined ? patch.groupConcurrency : queue.groupConcurrency,
    fair: patch.fair ?? queue.fair,
    groupByOwner: patch.groupByOwner ?? queue.groupByOwner,
  }
}

/** Settings are stored as JSON: refuse what would come back as something else. */
function jsonSettings(settings: Record<string, unknown>): Record<string, unknown> {
  assertJsonValue(settings, 'settings')
  return settings
}

export function resolveBackoff(
  base: BackoffPolicy,
  patch: Partial<BackoffPolicy> | undefined,
): BackoffPolicy {
  const merged = { ...base, ...stripUndefined(patch ?? {}) }
  if (merged.maxDelayMs < merged.delayMs) merged.maxDelayMs = merged.delayMs
  return merged
}

/** A job ready to insert. `runAt: null` means "now" by the database's clock, plus `delayMs`. */
export interface NewJob {
  id: string
  queue: string
  type: string
  payload: unknown
  priority: number
  runAt: Date | null
  delayMs: number
  maxAttempts: number
  backoff: BackoffPolicy
  timeoutMs: number | null
  owner: string | null
  group: string | null
  batchId: string | null
  capabilities: string[]
  dedupeKey: string | null
  dedupeMode: DedupeMode
  /** A job with the key finished less than this long ago also holds it; null: only live jobs do. */
  dedupeTtlMs: number | null
  /** debounce: the latest run time, counted from the first add of the burst; null: none (core/dedupe.ts). */
  dedupeMaxWaitMs: number | null
  dependsOn: string[]
  /** Those of `dependsOn` that wait for completion, not success (core/dependencies.ts). */
  onCompletion: string[]
  estimatedDurationMs: number | null
  /** The trace context of the add, stored with the job (docs/tracing.md). */
  traceContext?: TraceContext | null
  /** When it expires unless started (core/expiry.ts); `expiresInMs` counts from the insert's time. */
  expiresAt: Date | null
  expiresInMs: number | null
}

export function resolveJob(input: JobInput, queue: QueueRecord, id: string, batchId: string | null): NewJob {
  return {
    id: input.id ?? id,
    queue: input.queue,
    type: input.type,
    payload: input.payload === undefined ? null : input.payload,
    priority: priorityValue(input.priority),
    runAt: input.runAt === undefined ? null : new Date(input.runAt),
    delayMs: input.delayMs ?? 0,
    maxAttempts: input.maxAttempts ?? queue.defaults.maxAttempts,
    backoff: resolveBackoff(queue.defaults.backoff, input.backoff),
    timeoutMs: input.timeoutMs !== undefined ? input.timeoutMs : queue.defaults.timeoutMs,
    owner: input.owner ?? null,
    group: jobGroup(input, queue),
    batchId,
    capabilities: [...new Set(input.capabilities ?? [])].sort(),
    dedupeKey: input.dedupeKey ?? null,
    dedupeMode: input.dedupeMode ?? 'keep',
    dedupeTtlMs: input.dedupeTtlMs ?? null,
    dedupeMaxWaitMs: input.dedupeMaxWaitMs ?? null,
    ...resolveDependencies(input.dependsOn ?? []),
    estimatedDurationMs: input.estimatedDurationMs ?? null,
    expiresAt: input.expiresAt === undefined ? null : new Date(input.expiresAt),
    expiresInMs: input.expiresInMs ?? null,
  }
}

/**
 * A job's group: the one it names; on a `groupByOwner` queue always its owner,
 * whatever it names, so that no one can take another owner's group slot or
 * turn (a group given there is ignored, not refused: clients that name groups
 * keep working when a queue starts grouping by owner, and so do schedules).
 */
export function jobGroup(input: Pick<JobInput, 'owner' | 'group'>, queue: Pick<QueueRecord, 'groupByOwner'>) {
  return queue.groupByOwner ? (input.owner ?? null) : (input.group ?? null)
}

/**
 * The ids a job depends on, once each, and those that wait only for
 * completion. Listed twice with different types, a dependency waits for
 * success, the stricter of the two.
 */
export function resolveDependencies(
  dependsOn: NonNullable<JobInput['dependsOn']>,
): Pick<NewJob, 'dependsOn' | 'onCompletion'> {
  const types = new Map<string, DependencyType>()
  for (const d of dependsOn) {
    const [id, on] =
      typeof d === 'string' ? [d.toLowerCase(), 'success' as const] : [d.id.toLowerCase(), d.on]
    types.set(id, types.get(id) === 'success' ? 'success' : on)
  }
  return {
    dependsOn: [...types.keys()],
    onCompletion: [...types].filter(([, on]) => on === 'completion').map(([id]) => id),
  }
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024

/** Rejects a payload (or result) that would not round-trip through JSON, or that is too large to store sensibly. */
export function assertJsonValue(value: unknown, path: string, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES): string {
  const issue = findNonJson(value, path)
  if (issue) throw invalidArgument(`invalid ${path}: ${issue.path}: ${issue.message}`, [issue])
  const text = JSON.stringify(value)
  const bytes = Buffer.byteLength(text)
  if (bytes > maxBytes) {
    throw invalidArgument(`invalid ${path}: ${bytes} bytes of JSON is over the limit of ${maxBytes}`, [
      { path, message: `at most ${maxBytes} bytes of JSON` },
    ])
  }
  return text
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
