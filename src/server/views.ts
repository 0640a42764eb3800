/**
 * What the API returns: the domain objects as JSON (dates as ISO strings),
 * with a zod schema for each, which both checks the responses and documents
 * them in the OpenAPI document.
 */
import { z } from 'zod'
import { ATTEMPT_OUTCOMES } from '../core/attempts.js'
import { DEPENDENCY_TYPES } from '../core/dependencies.js'
import { ERROR_CODES, type ErrorCode } from '../core/errors.js'
import { FEED_EVENT_KINDS, JOB_EVENT_KINDS } from '../core/events.js'
import { COUNT_LIMIT, SUGGESTION_SAMPLE } from '../core/job-search.js'
import type { QueueHealth } from '../core/stats.js'
import {
  type ClaimedJob,
  JOB_STATUSES,
  type Job,
  type JobDetail,
  type JobEvent,
  type Queue,
  type StatusCounts,
} from '../core/types.js'
import type { DocketEvent } from '../events/feed.js'
import type { Artifact, BatchSummary, WorkerInfo } from '../storage/store.js'

const iso = z.string().describe('ISO 8601 date-time')
const status = z.enum(JOB_STATUSES)
const countsView = z.object(
  Object.fromEntries(JOB_STATUSES.map((s) => [s, z.number().int()])),
) as unknown as z.ZodType<StatusCounts>
const backoffView = z.object({
  type: z.enum(['fixed', 'exponential']),
  delayMs: z.number(),
  maxDelayMs: z.number(),
  jitter: z.number(),
})

export const errorView = z
  .object({
    error: z.object({
      code: z
        .enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]])
        .describe('stable error code; see docs/errors.md'),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .meta({ id: 'Error' })

const finishedRateView = z.object({ completed: z.number(), failed: z.number() })
export const queueHealthView = z
  .object({
    latencyMs: z
      .number()
      .describe('age of the oldest ready job (waiting, or scheduled and due); 0 when none is ready'),
    rates: z
      .object({ lastMinute: finishedRateView, last5Minutes: finishedRateView })
      .describe('jobs finished per minute, by outcome, over the last minute and the last five minutes'),
    backlogTrendPerMinute: z
      .number()
      .describe(
        'jobs per minute the backlog grew by over the last five minutes (added less finished); negative: shrinking',
      ),
    stalled: z.boolean().describe('the queue is paused while jobs are ready to run'),
    topErrors: z
      .array(
        z.object({
          fingerprint: z.string().describe("the errors' class; list its jobs with GET /jobs?fingerprint="),
          normalized: z
            .string()
            .describe(
              'the class as text: the name and message with placeholders (<num>, <uuid>, <str>, <path>, <url>, …)',
            ),
          name: z.string().nullable().describe("the latest error's name"),
          message: z.string().describe("the latest error's message: an example of the class"),
          count: z.number().int(),
          firstSeenAt: iso.describe('the earliest failure of the class within the last 24 hours'),
          lastSeenAt: iso,
          latestJobId: z.string(),
          latestAt: iso.describe('the same as lastSeenAt'),
        }),
      )
      .describe(
        'jobs failed in the last 24 hours, grouped by error fingerprint (docs/operations.md), most frequent first (at most 5)',
      ),
  })
  .meta({ id: 'QueueHealth' })

export const queueView = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    mode: z.enum(['automatic', 'manual']),
    status: z.enum(['active', 'paused']),
    concurrency: z.number().int().nullable(),
    ordering: z.enum(['priority', 'fifo']),
    defaults: z.object({
      maxAttempts: z.number().int(),
      backoff: backoffView,
      timeoutMs: z.number().nullable(),
    }),
    retentionMs: z.number().nullable(),
    settings: z.record(z.string(), z.unknown()),
    rateLimit: z
      .object({ max: z.number().int(), intervalMs: z.number().int(), per: z.literal('group').optional() })
      .nullable()
      .describe(
        'at most max jobs start in any window of intervalMs (a sliding window), across all workers; per group with per: group',
      ),
    groupConcurrency: z.number().int().nullable().describe('most active jobs per group, across all workers'),
    fair: z.boolean().describe('claims take turns between groups (round-robin)'),
    groupByOwner: z.boolean().describe("a job's group is its owner (a group the add names is ignored)"),
    createdAt: iso,
    updatedAt: iso,
    counts: countsView.optional(),
    groups: z
      .array(z.object({ group: z.string(), active: z.number().int(), waiting: z.number().int() }))
      .optional()
      .describe('the busiest groups (most active, then waiting jobs); only on GET /queues/{name}'),
    rateLimitUse: z
      .object({
        used: z.number().int().describe('starts in the current window (per group: the busiest group’s)'),
        max: z.number().int(),
        intervalMs: z.number().int(),
        per: z.literal('group').optional(),
        full: z.boolean().describe('the window holds max starts: nothing starts until nextSlotAt'),
        nextSlotAt: iso.nullable().describe('when a start is allowed again; null while there is room'),
      })
      .nullable()
      .optional()
      .describe(
        'the rate limit’s current use (null without a rate limit); only on GET /queues/{name}, not to user keys (it counts everyone’s starts)',
      ),
    health: queueHealthView
      .optional()
      .describe('latency, rates, backlog trend and top errors; on GET /queues and GET /queues/{name}'),
  })
  .meta({ id: 'Queue' })

export const jobView = z
  .object({
    id: z.string(),
    queue: z.string(),
    type: z.string(),
    payload: z.unknown(),
    status,
    priority: z.number().int(),
    runAt: iso,
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    backoff: backoffView,
    timeoutMs: z.number().nullable(),
    progress: z.object({ percent: z.number(), step: z.string().nullable(), message: z.string().nullable() }),
    lease: z
      .object({
        workerId: z.string(),
        token: z.string().optional().describe('only in a claim’s answer, to the worker that holds the lease'),
        lockedAt: iso,
        expiresAt: iso,
      })
      .nullable(),
    workerId: z
      .string()
      .nullable()
      .describe('the worker of its latest attempt, kept after it ends; null before the first'),
    lastError: z
      .object({
        message: z.string(),
        name: z.string().nullable(),
        stack: z.string().nullable(),
        fingerprint: z
          .string()
          .describe(
            "the error's class: the same for every occurrence, whatever ids or numbers the message names (docs/operations.md)",
          ),
        attempt: z.number().int(),
        at: iso,
        retryable: z.boolean(),
      })
      .nullable(),
    errorCount: z.number().int(),
    result: z.unknown(),
    owner: z.string().nullable(),
    group: z.string().nullable().describe('the group for per-group limits and fair turns (a tenant, a user)'),
    batchId: z.string().nullable(),
    capabilities: z.array(z.string()),
    dedupeKey: z.string().nullable(),
    pendingDependencies: z.number().int(),
    createdAt: iso,
    startedAt: iso.nullable(),
    finishedAt: iso.nullable(),
    estimatedDurationMs: z.number().nullable(),
    durationMs: z.number().nullable(),
    expiresAt: iso.nullable().describe('not run unless it starts by then; null: never expires'),
  })
  .meta({ id: 'Job' })

/** A job as a claim hands it to its worker: the lease, with the token every later report must send. */
export const claimedJobView = jobView
  .extend({
    lease: z.object({
      workerId: z.string(),
      token: z.string().describe('send it with every report on this job (heartbeat, progress, complete, …)'),
      lockedAt: iso,
      expiresAt: iso,
    }),
    traceContext: z
      .object({ traceparent: z.string(), tracestate: z.string().optional() })
      .optional()
      .describe(
        'the W3C trace context of the add, when it was traced: make your run’s span its child (docs/tracing.md)',
      ),
  })
  .meta({ id: 'ClaimedJob' })

export const jobEventView = z
  .object({
    id: z.number().int(),
    jobId: z.string(),
    kind: z
      .enum(JOB_EVENT_KINDS)
      .describe('what happened to the job; see "Event kinds" in docs/remote-workers.md'),
    status: status.nullable().describe('for added and state events, the status the job moved to'),
    step: z.string().nullable(),
    percent: z.number().nullable(),
    message: z.string().nullable(),
    data: z.unknown(),
    at: iso,
  })
  .meta({ id: 'JobEvent' })

export const artifactView = z
  .object({
    id: z.string(),
    jobId: z.string(),
    direction: z.enum(['input', 'output']),
    name: z.string(),
    mediaType: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    createdAt: iso,
  })
  .meta({ id: 'Artifact' })

/** An artifact as clients see it: where its bytes are stored is the server's business. */
export const artifactJson = ({ storageKey: _key, ...a }: Artifact) => ({
  ...a,
  createdAt: a.createdAt.toISOString(),
})

export const attemptView = z
  .object({
    attempt: z
      .number()
      .int()
      .describe(
        'the job’s attempt count when it started (a released or snoozed attempt’s number comes again)',
      ),
    workerId: z.string().nullable().describe('null for an expiry, which no worker ran'),
    startedAt: iso.nullable(),
    finishedAt: iso.nullable().describe('null while it runs'),
    outcome: z.enum(ATTEMPT_OUTCOMES),
    error: z
      .object({
        name: z.string().nullable(),
        message: z.string(),
        stack: z.string().nullable().describe('kept for the newest 25 attempts'),
        fingerprint: z.string().describe("the error's class (docs/operations.md)"),
        data: z.unknown(),
      })
      .nullable(),
  })
  .meta({ id: 'Attempt' })

const dependencyView = z.object({
  id: z.string(),
  status,
  on: z
    .enum(DEPENDENCY_TYPES)
    .describe('success: waits for it to complete, fails if it fails; completion: waits until it is final'),
})
export const jobDetailView = jobView
  .extend({
    events: z.array(jobEventView),
    attemptHistory: z.array(attemptView).describe('every attempt, oldest first; `attempts` is the count'),
    dependencies: z.object({ upstream: z.array(dependencyView), downstream: z.array(dependencyView) }),
    artifacts: z.array(artifactView),
  })
  .meta({ id: 'JobDetail' })

/** The kinds of a job's history a viewer sees: no `log` line, which is the worker's own record. */
const VIEWER_EVENT_KINDS = [
  'added',
  'state',
  'progress',
  'step.started',
  'step.completed',
  'step.failed',
] as const
/** Of those, the ones whose message a viewer sees: what the worker wrote for people to read. */
const VIEWER_MESSAGE_KINDS: readonly string[] = ['progress', 'step.started', 'step.completed', 'step.failed']

/**
 * One job as a viewer token shows it (GET /jobs/{id}?token=dv_…): what a
 * customer's page needs to say "analysing page 3 of 12", and nothing the
 * job's owner might not want shown to anyone holding the link. No payload,
 * result, owner, group, batch, worker id, lease, error (message or stack),
 * attempt history, dependencies, files or log lines; the application that
 * minted the token reads those with its key.
 */
export const viewerJobView = z
  .object({
    id: z.string(),
    queue: z.string(),
    type: z.string(),
    status,
    progress: z.object({ percent: z.number(), step: z.string().nullable(), message: z.string().nullable() }),
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    runAt: iso,
    createdAt: iso,
    startedAt: iso.nullable(),
    finishedAt: iso.nullable(),
    estimatedDurationMs: z.number().nullable(),
    durationMs: z.number().nullable(),
    events: z
      .array(
        z.object({
          id: z.number().int(),
          kind: z.enum(VIEWER_EVENT_KINDS),
          status: status.nullable(),
          step: z.string().nullable(),
          percent: z.number().nullable(),
          message: z.string().nullable().describe('only for progress and step events'),
          at: iso,
        }),
      )
      .describe('the job’s timeline: added, state changes, progress and steps (no log lines, no data)'),
  })
  .meta({ id: 'ViewerJob' })

export function viewerJobJson(job: JobDetail): z.infer<typeof viewerJobView> {
  return {
    id: job.id,
    queue: job.queue,
    type: job.type,
    status: job.status,
    progress: { ...job.progress },
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    runAt: job.runAt.toISOString(),
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    estimatedDurationMs: job.estimatedDurationMs,
    durationMs: job.durationMs,
    events: job.events.flatMap((e) =>
      (VIEWER_EVENT_KINDS as readonly string[]).includes(e.kind)
        ? [
            {
              id: e.id,
              kind: e.kind as (typeof VIEWER_EVENT_KINDS)[number],
              status: e.status,
              step: e.step,
              percent: e.percent,
              message: VIEWER_MESSAGE_KINDS.includes(e.kind) ? e.message : null,
              at: e.at.toISOString(),
            },
          ]
        : [],
    ),
  }
}

/**
 * A feed event as a viewer token's feed sends it, or null for one it does not
 * send (a log line): no worker id, no data, a message only where the job
 * view has one.
 */
export function viewerEventJson(e: DocketEvent): z.infer<typeof eventView> | null {
  if (e.kind === 'job.log' || e.jobId === null) return null
  const kind = e.kind.startsWith('job.') ? e.kind.slice(4) : e.kind
  return {
    ...eventJson(e),
    workerId: null,
    data: null,
    message: VIEWER_MESSAGE_KINDS.includes(kind) ? e.message : null,
  }
}

export const upstreamJobView = z
  .object({
    id: z.string(),
    type: z.string(),
    status,
    on: z
      .enum(DEPENDENCY_TYPES)
      .describe('what the dependent waits for: its success, or only its completion'),
    result: z
      .unknown()
      .describe('its result once completed; null before, or when it failed or was cancelled'),
  })
  .meta({ id: 'UpstreamJob' })

export const matchCountView = z
  .object({
    value: z.number().int().describe(`jobs matching, on every page; at most ${COUNT_LIMIT}`),
    exact: z.boolean().describe(`false when more than ${COUNT_LIMIT} match: value is then a lower bound`),
  })
  .meta({ id: 'MatchCount' })

export const jobPageView = z
  .object({
    jobs: z.array(jobView),
    nextCursor: z.string().nullable(),
    count: matchCountView.optional().describe('only when asked with count=true'),
  })
  .meta({ id: 'JobPage' })

export const jobSuggestionsView = z
  .object({
    queues: z.array(z.string()).describe("queue names: every queue for an admin, a user's own jobs' queues"),
    types: z
      .array(z.string())
      .describe(`job types among the newest ${SUGGESTION_SAMPLE} jobs the caller may see`),
  })
  .meta({ id: 'JobSuggestions' })

export const batchView = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    owner: z.string().nullable(),
    thenJobId: z
      .string()
      .nullable()
      .describe('the job that runs once every job of the batch is final (its `then`); not one of its jobs'),
    createdAt: iso,
    total: z.number().int(),
    counts: countsView,
    progress: z
      .number()
      .describe(
        'percent done, 0-100, to one decimal: the mean over its jobs, each final job (completed, failed or cancelled) counting 100 and each other its own progress percent; 0 for an empty batch',
      ),
  })
  .meta({ id: 'Batch' })

export const workerView = z
  .object({
    id: z.string(),
    host: z.string(),
    pid: z.number().int(),
    kind: z.string(),
    capabilities: z.array(z.string()),
    queues: z.array(z.string()),
    concurrency: z.number().int(),
    load: z.number().int(),
    status: z.enum(['up', 'lost', 'stopped']),
    startedAt: iso,
    heartbeatAt: iso,
    heartbeatAgeMs: z.number().int(),
    registeredBy: z
      .string()
      .nullable()
      .describe('the API key name that registered it; null for a library worker'),
  })
  .meta({ id: 'Worker' })

export const eventView = z
  .object({
    id: z.number().int(),
    kind: z
      .enum(FEED_EVENT_KINDS)
      .describe('what happened; see "Event kinds" in docs/remote-workers.md for each kind'),
    at: iso,
    jobId: z.string().nullable(),
    queue: z.string().nullable(),
    workerId: z
      .string()
      .nullable()
      .describe(
        'the worker that claimed, reported on, completed, failed or released the job, or whose lease on it ran out; the worker of a worker event',
      ),
    status: status.nullable(),
    step: z.string().nullable(),
    percent: z.number().nullable(),
    message: z.string().nullable(),
    data: z.unknown(),
  })
  .meta({ id: 'Event' })

const percentilesView = z.object({
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
})
const windowView = z.object({
  windowMs: z.number(),
  completed: z.number().int(),
  failed: z.number().int(),
  expired: z.number().int().describe('of the failed, jobs that expired before they started (expiresAt)'),
  cancelled: z.number().int(),
  throughputPerMinute: z.number(),
  failureRate: z.number().nullable(),
  waitMs: percentilesView,
  runMs: percentilesView,
  series: z.array(z.object({ t: z.number(), completed: z.number().int(), failed: z.number().int() })),
})
export const statsView = z
  .object({
    queue: z.string().nullable(),
    counts: z.record(z.string(), z.number().int()),
    lastHour: windowView,
    lastDay: windowView,
    health: queueHealthView.optional().describe('the queue’s health; only on GET /queues/{name}/stats'),
  })
  .meta({ id: 'Stats' })

export const sessionView = z.object({
  name: z.string(),
  role: z.enum(['admin', 'user', 'worker']),
  csrfToken: z.string().describe('send it as x-csrf-token on every change made with the session cookie'),
  expiresAt: z.string().nullable().describe('ISO 8601 date-time; null without authentication'),
})

/** Dates to ISO strings, everything else as is (the domain types are otherwise plain JSON). */
function plain<T>(value: T): unknown {
  return JSON.parse(JSON.stringify(value))
}

/** A job as others see it: the lease token is a secret of the worker that holds it. */
export function jobJson(job: Job, withToken = false): z.infer<typeof jobView> {
  const view = plain(job) as z.infer<typeof jobView>
  if (view.lease && !withToken) delete view.lease.token
  return view
}

/** A job as its claim hands it to the worker, token included. */
export const claimedJobJson = (job: ClaimedJob) => plain(job) as z.infer<typeof claimedJobView>

export const jobDetailJson = (job: JobDetail & { artifacts?: { storageKey?: string }[] }) => {
  const view = plain({
    ...job,
    artifacts: (job.artifacts ?? []).map(({ storageKey: _k, ...a }) => a),
  }) as z.infer<typeof jobDetailView>
  if (view.lease) delete view.lease.token
  return view
}
export const healthJson = (h: QueueHealth) => plain(h) as z.infer<typeof queueHealthView>
export const queueJson = (q: Queue, counts?: StatusCounts, health?: QueueHealth) =>
  plain({ ...q, ...(counts ? { counts } : {}), ...(health ? { health } : {}) }) as z.infer<typeof queueView>
export const batchJson = (b: BatchSummary) => plain(b) as z.infer<typeof batchView>
export const eventJson = (e: DocketEvent) => plain(e) as z.infer<typeof eventView>
export const jobEventJson = (e: JobEvent) => plain(e) as z.infer<typeof jobEventView>
/** A worker with its heartbeat's age at `now` (the Docket's clock, the one x-server-time reports). */
export const workerJson = (w: WorkerInfo, now: Date = new Date()) =>
  plain({ ...w, heartbeatAgeMs: Math.max(0, now.getTime() - w.heartbeatAt.getTime()) }) as z.infer<
    typeof workerView
  >
