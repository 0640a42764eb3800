/**
 * Every kind of event Docket records, in one place. The event log keeps a
 * job's history in its own words (JOB_EVENT_KINDS: the `events` of
 * GET /jobs/{id} and of JobDetail), next to queue and worker events; the live
 * feed names each of them for what it means (FEED_EVENT_KINDS), derived from
 * the same lists by feedKind(). The drivers, the feed, the API's schemas and
 * docs/remote-workers.md ("Event kinds") all take the kinds from here.
 */
import type { JobStatus } from './types.js'

/** What a worker records under its lease: a step boundary or a log line (POST /jobs/{id}/events). */
export const REPORTED_EVENT_KINDS = ['step.started', 'step.completed', 'step.failed', 'log'] as const
export type ReportedEventKind = (typeof REPORTED_EVENT_KINDS)[number]

/**
 * A job's history: `added` (with the status it started in), `state` (with the
 * status it moved to), `progress`, and what its worker reported.
 */
export const JOB_EVENT_KINDS = ['added', 'state', 'progress', ...REPORTED_EVENT_KINDS] as const
export type JobEventKind = (typeof JOB_EVENT_KINDS)[number]

export const QUEUE_EVENT_KINDS = ['queue.paused', 'queue.resumed'] as const
export type QueueEventKind = (typeof QUEUE_EVENT_KINDS)[number]

/** A worker registered (or registered again), was marked lost by maintenance, or deregistered. */
export const WORKER_EVENT_KINDS = ['worker.up', 'worker.lost', 'worker.stopped'] as const
export type WorkerEventKind = (typeof WORKER_EVENT_KINDS)[number]

/** The kind column of a row of the event log. */
export type StoredEventKind = JobEventKind | QueueEventKind | WorkerEventKind

/** The feed's name for a `state` event, by the status the job moved to. */
const STATE_FEED_KINDS = {
  waiting: 'job.waiting',
  // A failed attempt waiting out its backoff (or an unblocked job whose run-at is still ahead).
  scheduled: 'job.retrying',
  blocked: 'job.blocked',
  held: 'job.held',
  active: 'job.started',
  completed: 'job.completed',
  failed: 'job.failed',
  cancelled: 'job.cancelled',
} as const satisfies Record<JobStatus, `job.${string}`>

type OtherJobKind = Exclude<JobEventKind, 'added' | 'state'>

/** What the live feed calls an event (DocketEvent.kind, the SSE event name, the WebSocket message's kind). */
export type FeedEventKind =
  | 'job.added'
  | (typeof STATE_FEED_KINDS)[JobStatus]
  | `job.${OtherJobKind}`
  | QueueEventKind
  | WorkerEventKind

const OTHER_JOB_KINDS = JOB_EVENT_KINDS.filter((k): k is OtherJobKind => k !== 'added' && k !== 'state')

export const FEED_EVENT_KINDS = [
  'job.added',
  ...Object.values(STATE_FEED_KINDS),
  ...OTHER_JOB_KINDS.map((k) => `job.${k}` as const),
  ...QUEUE_EVENT_KINDS,
  ...WORKER_EVENT_KINDS,
] as [FeedEventKind, ...FeedEventKind[]]

const isQueueOrWorkerKind = (kind: string): kind is QueueEventKind | WorkerEventKind =>
  (QUEUE_EVENT_KINDS as readonly string[]).includes(kind) ||
  (WORKER_EVENT_KINDS as readonly string[]).includes(kind)

/** The feed's kind for a row of the event log. */
export function feedKind(kind: StoredEventKind, status: JobStatus | null): FeedEventKind {
  if (kind === 'added') return 'job.added'
  if (kind === 'state') return STATE_FEED_KINDS[status ?? 'waiting']
  if (isQueueOrWorkerKind(kind)) return kind
  return `job.${kind}`
}
