/**
 * `docket/client`: Docket over HTTP, for processes that are not the server.
 * `DocketClient` has the library's verbs (add, get, list, cancel, waitForJob,
 * upload, events, queues, batches, schedules, keys); `RemoteWorker` is the
 * HTTP twin of `Worker`. Typed by the server's OpenAPI document, `fetch` only:
 * Node, Deno, Bun and browsers. See docs/clients.md.
 */
export { DocketError, ERROR_CODES, type ErrorCode, type FieldIssue, isDocketError } from '../core/errors.js'
export { RetryAfterError, UnrecoverableError } from '../docket/types.js'
export { type AbortReason, JobAbortedError, JobSnoozedError } from '../worker/abort.js'
export type { components, paths } from './api.generated.js'
export {
  type ApiKey,
  type Artifact,
  type Batch,
  type BatchInput,
  type ClaimedJob,
  type CreatedApiKey,
  DocketClient,
  type FeedEvent,
  type Job,
  type JobDetail,
  type JobInput,
  type JobPage,
  type JobUpdateInput,
  type ListBatchesQuery,
  type ListJobsQuery,
  type Queue,
  type QueueCreateInput,
  type QueueUpdateInput,
  type Schedule,
  type ScheduleCreateInput,
  type ScheduleDetail,
  type ScheduleRun,
  type ScheduleUpdateInput,
  type Stats,
  type UploadFile,
  type WaitForJobOptions,
} from './client.js'
export { type Api, ApiError, type ClientOptions, ConnectionError } from './http.js'
export {
  type RemoteHandler,
  type RemoteJob,
  type RemoteJobContext,
  RemoteWorker,
  type RemoteWorkerOptions,
} from './remote-worker.js'
export type { EventsOptions } from './sse.js'
