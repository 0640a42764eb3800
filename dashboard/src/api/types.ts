/** The JSON the Docket API returns (see /api/v1/openapi.json), as the dashboard reads it. */
import type { JobStatus } from '../../../src/core/types.js'

export type { JobStatus }
export type Role = 'admin' | 'user' | 'worker'
export type Counts = Record<JobStatus, number>

export interface Session {
  name: string
  role: Role
  /** Sent as x-csrf-token on every change; 'none' when the server runs without keys. */
  csrfToken: string
  /** When the session ends (null without keys). */
  expiresAt: string | null
}

export interface Queue {
  name: string
  description: string | null
  mode: 'automatic' | 'manual'
  status: 'active' | 'paused'
  concurrency: number | null
  ordering: 'priority' | 'fifo'
  defaults: { maxAttempts: number; timeoutMs: number | null }
  retentionMs: number | null
  /** At most max starts in any window of intervalMs, across all workers. */
  rateLimit?: { max: number; intervalMs: number; per?: 'group' } | null
  groupConcurrency?: number | null
  fair?: boolean
  groupByOwner?: boolean
  /** The busiest groups (only on one queue's page). */
  groups?: { group: string; active: number; waiting: number }[]
  createdAt: string
  updatedAt: string
  counts?: Counts
}

export interface JobError {
  message: string
  name: string | null
  stack: string | null
  attempt: number
  at: string
  retryable: boolean
}

export interface Job {
  id: string
  queue: string
  type: string
  payload: unknown
  status: JobStatus
  priority: number
  runAt: string
  attempts: number
  maxAttempts: number
  timeoutMs: number | null
  progress: { percent: number; step: string | null; message: string | null }
  lease: { workerId: string; lockedAt: string; expiresAt: string } | null
  lastError: JobError | null
  errorCount: number
  result: unknown
  owner: string | null
  batchId: string | null
  capabilities: string[]
  dedupeKey: string | null
  pendingDependencies: number
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  estimatedDurationMs: number | null
  durationMs: number | null
}

export interface JobEvent {
  id: number
  jobId: string
  kind: 'added' | 'state' | 'progress' | 'step.started' | 'step.completed' | 'step.failed' | 'log'
  status: JobStatus | null
  step: string | null
  percent: number | null
  message: string | null
  data: unknown
  at: string
}

export interface Artifact {
  id: string
  jobId: string
  direction: 'input' | 'output'
  name: string
  mediaType: string
  size: number
  sha256: string
  createdAt: string
}

export interface JobDetail extends Job {
  events: JobEvent[]
  dependencies: {
    upstream: { id: string; status: JobStatus }[]
    downstream: { id: string; status: JobStatus }[]
  }
  artifacts: Artifact[]
}

export interface JobPage {
  jobs: Job[]
  nextCursor: string | null
  /** With count=true: every job matching, on all pages (a lower bound when not exact). */
  count?: { value: number; exact: boolean }
}

export interface JobSuggestions {
  queues: string[]
  types: string[]
}

export interface Batch {
  id: string
  name: string | null
  owner: string | null
  createdAt: string
  total: number
  counts: Counts
  progress: number
}

export interface Worker {
  id: string
  host: string
  pid: number
  kind: string
  capabilities: string[]
  queues: string[]
  concurrency: number
  load: number
  status: 'up' | 'lost' | 'stopped'
  startedAt: string
  heartbeatAt: string
  heartbeatAgeMs: number
}

export interface Percentiles {
  p50: number | null
  p90: number | null
  p99: number | null
}

export interface WindowStats {
  windowMs: number
  completed: number
  failed: number
  cancelled: number
  throughputPerMinute: number
  failureRate: number | null
  waitMs: Percentiles
  runMs: Percentiles
  series: { t: number; completed: number; failed: number }[]
}

export interface Stats {
  queue: string | null
  counts: Record<string, number>
  lastHour: WindowStats
  lastDay: WindowStats
}

/** One message of the live feed (/api/v1/events). */
export interface FeedEvent {
  id: number
  kind: string
  at: string
  jobId: string | null
  queue: string | null
  workerId: string | null
  status: JobStatus | null
  step: string | null
  percent: number | null
  message: string | null
  data: unknown
}

export interface JobFilter {
  queue?: string
  status?: string
  type?: string
  owner?: string
  batchId?: string
  /** A job id, its first 6+ characters, or the 8-character short id. */
  id?: string
  /** Free text: id prefix or short id, payload text, error message. */
  search?: string
  /** Conditions on the payload: `payload.customerId = 42 and …`. */
  where?: string
  count?: boolean
  limit?: number
  cursor?: string
  sort?: 'createdAt' | 'priority' | 'runAt'
  order?: 'asc' | 'desc'
}

export type RunOutcome = JobStatus | 'skipped' | 'error' | 'removed'

export interface ScheduleRun {
  id: number
  scheduleId: string
  at: string
  manual: boolean
  jobId: string | null
  outcome: RunOutcome
  reason: string | null
  createdAt: string
}

export interface Schedule {
  id: string
  name: string
  owner: string | null
  cron: string | null
  every: number | null
  timezone: string | null
  queue: string
  type: string
  payload: unknown
  options: Record<string, unknown>
  catchUp: 'none' | 'latest' | 'all'
  overlap: 'allow' | 'skip'
  enabled: boolean
  nextRunAt: string | null
  lastRunAt: string | null
  createdAt: string
  updatedAt: string
  nextRuns: string[]
  runs: ScheduleRun[]
}
