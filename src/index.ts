// The published declarations use Node's types (Buffer, node:stream, the
// EventEmitter that Worker extends). TypeScript 6 and later load no @types
// package unless a tsconfig lists it, so the entry point names @types/node
// itself (a dependency); preserve="true" keeps the directive in dist/index.d.ts.
/// <reference types="node" preserve="true" />
/**
 * Docket's public library API: what a user writes. Internals (the Store, the
 * maintenance writes, the server's session plumbing) are not exported; tests
 * that need them import them from their own paths.
 */

export type { Attempt, AttemptError, AttemptOutcome } from './core/attempts.js'
export { type Clock, TestClock } from './core/clock.js'
export { DocketError, ERROR_CODES, type ErrorCode, type FieldIssue, isDocketError } from './core/errors.js'
export { COUNT_LIMIT, type MatchCount } from './core/job-search.js'
export type { LeaseLostReason, LeaseOutcome } from './core/leases.js'
export type {
  ClaimInput,
  JobInput,
  ListJobsInput,
  ProgressInput,
  QueueCreateInput,
  QueueUpdateInput,
} from './core/options.js'
export { PRIORITIES, type PriorityName } from './core/options.js'
export type { RateLimitUse } from './core/rate-limits.js'
export {
  type CatchUp,
  MAX_CATCH_UP,
  type Overlap,
  type RunOutcome,
  type Schedule,
  type ScheduleCreateInput,
  type ScheduleDetail,
  type ScheduleJobOptions,
  type ScheduleRun,
  type ScheduleUpdateInput,
} from './core/schedules.js'
export type { QueueHealth } from './core/stats.js'
export {
  type Artifact,
  type BackoffPolicy,
  type BatchSummary,
  type ClaimedJob,
  JOB_STATUSES,
  type Job,
  type JobDependencies,
  type JobDetail,
  type JobError,
  type JobEvent,
  type JobEventKind,
  type JobLease,
  type JobProgress,
  type JobStatus,
  type LeaseRef,
  type Queue,
  type QueueDefaults,
  type QueueMode,
  type QueueOrdering,
  type QueueStatus,
  type RateLimit,
  type StatusCounts,
  type UpstreamJob,
  type WorkerInfo,
} from './core/types.js'
export type { AddOptions } from './docket/jobs.js'
export type { WaitOptions } from './docket/results.js'
export type {
  AnyTasks,
  PayloadOf,
  ResultOf,
  TaskInput,
  TaskJob,
  TaskJobDetail,
  TaskMap,
  TaskName,
  TaskSpec,
} from './docket/tasks.js'
export {
  type DocketOptions,
  type FailureInput,
  type FileInput,
  type JobOptions,
  type JobPage,
  type Leased,
  RetryAfterError,
  UnrecoverableError,
} from './docket/types.js'
export { Docket } from './docket.js'
export type {
  DocketEvent,
  DocketEventKind,
  SubscribeOptions,
  Subscription,
} from './events/feed.js'
export { type AbortReason, JobAbortedError, type JobContext, JobSnoozedError } from './worker/context.js'
export { Maintenance, type MaintenanceOptions, type PassOutcome } from './worker/maintenance.js'
export { type Isolation, type SandboxOptions, sandboxed } from './worker/sandbox.js'
export {
  type ClaimedTask,
  type Handler,
  type Handlers,
  Worker,
  type WorkerEventName,
  type WorkerEvents,
  type WorkerListener,
  type WorkerOptions,
} from './worker/worker.js'
