/** Docket's public library API. */

export {
  ATTEMPT_OUTCOMES,
  ATTEMPT_STACKS_KEPT,
  ATTEMPTS_KEPT,
  type Attempt,
  type AttemptError,
  type AttemptOutcome,
} from './core/attempts.js'
export { type Clock, TestClock } from './core/clock.js'
export { DocketError, ERROR_CODES, type ErrorCode, type FieldIssue, isDocketError } from './core/errors.js'
export { COUNT_LIMIT, type MatchCount } from './core/job-search.js'
export { LEASE_LOST_REASONS, type LeaseLostReason } from './core/leases.js'
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
  CATCH_UP,
  type CatchUp,
  MAX_CATCH_UP,
  OVERLAP,
  type Overlap,
  type RunOutcome,
  type Schedule,
  type ScheduleCreateInput,
  type ScheduleDetail,
  type ScheduleJobOptions,
  type ScheduleRun,
  type ScheduleUpdateInput,
} from './core/schedules.js'
export { type JobAction, TRANSITIONS } from './core/states.js'
export type { QueueHealth } from './core/stats.js'
export * from './core/types.js'
export type { Access } from './docket/access.js'
export type { Leadership } from './docket/leadership.js'
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
export type { StepPhase, WorkerProtocol } from './docket/worker-protocol.js'
export {
  type DocketOptions,
  type FailureInput,
  type JobOptions,
  type JobPage,
  type Leased,
  RetryAfterError,
  UnrecoverableError,
} from './docket/types.js'
export { Docket } from './docket.js'
export {
  type DocketEvent,
  type DocketEventKind,
  type SubscribeOptions,
  type Subscription,
  toDocketEvent,
} from './events/feed.js'
export type {
  Artifact,
  BatchSummary,
  LeaderTerm,
  LeaseOutcome,
  LeaseRef,
  WorkerInfo,
} from './storage/store.js'
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
