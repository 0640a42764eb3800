/**
 * The JSON the Docket API returns, as the dashboard reads it: the types the
 * server's own response schemas infer (src/server/views.ts, which are also the
 * OpenAPI document), imported as types only, so the two cannot drift apart.
 */
import type { z } from 'zod'
import type { JobStatus } from '../../../src/core/types.js'
import type * as scheduleViews from '../../../src/server/schedule-views.js'
import type * as views from '../../../src/server/views.js'

export type { BulkFilter } from '../../../src/docket/bulk.js'

export type { JobStatus }
export type Session = z.infer<typeof views.sessionView>
export type Role = Session['role']
export type Counts = Record<JobStatus, number>
export type Queue = z.infer<typeof views.queueView>
export type Job = z.infer<typeof views.jobView>
export type JobError = NonNullable<Job['lastError']>
export type JobEvent = z.infer<typeof views.jobEventView>
export type Artifact = z.infer<typeof views.artifactView>
export type JobDetail = z.infer<typeof views.jobDetailView>
/** One attempt of a job, as GET /jobs/{id} lists them (oldest first). */
export type Attempt = z.infer<typeof views.attemptView>
/** A job another depends on, with its result once completed (GET /jobs/{id}/upstream). */
export type UpstreamJob = z.infer<typeof views.upstreamJobView>
export type JobPage = z.infer<typeof views.jobPageView>
export type JobSuggestions = z.infer<typeof views.jobSuggestionsView>
export type Batch = z.infer<typeof views.batchView>
export type Worker = z.infer<typeof views.workerView>
export type Stats = z.infer<typeof views.statsView>
export type WindowStats = Stats['lastHour']
export type Percentiles = WindowStats['waitMs']
/** One message of the live feed (/api/v1/events). */
export type FeedEvent = z.infer<typeof views.eventView>

/** What the job list may filter by (the query of GET /api/v1/jobs). */
export interface JobFilter {
  queue?: string
  status?: string
  type?: string
  owner?: string
  batchId?: string
  /** Jobs whose last error is of this class (12 hex characters). */
  fingerprint?: string
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

export type Schedule = z.infer<typeof scheduleViews.scheduleDetailView>
export type ScheduleRun = z.infer<typeof scheduleViews.scheduleRunView>
export type RunOutcome = ScheduleRun['outcome']
