/**
 * `DocketClient`: the library's verbs over HTTP, for a process that is not the
 * Docket server (another service, an edge function, a browser tool, the CLI's
 * `--url`). Every call is typed by the OpenAPI document (api.generated.ts) and
 * answers the API's JSON shapes (dates as ISO strings). Errors are DocketErrors
 * with the API's code, message and details (ApiError, carrying the status);
 * a server that does not answer is a ConnectionError.
 */
import { waitTimeout } from '../core/errors.js'
import type { components, paths } from './api.generated.js'
import { type Api, type ClientOptions, createApi, unwrap } from './http.js'
import { type EventsOptions, readEvents } from './sse.js'

type Schemas = components['schemas']
export type Job = Schemas['Job']
export type JobDetail = Schemas['JobDetail']
export type JobPage = Schemas['JobPage']
export type Queue = Schemas['Queue']
export type Batch = Schemas['Batch']
export type Schedule = Schemas['Schedule']
export type ScheduleDetail = Schemas['ScheduleDetail']
export type ScheduleRun = Schemas['ScheduleRun']
export type Artifact = Schemas['Artifact']
export type ApiKey = Schemas['ApiKey']
export type CreatedApiKey = Schemas['CreatedApiKey']
export type Stats = Schemas['Stats']
export type ClaimedJob = Schemas['ClaimedJob']
export type FeedEvent = Schemas['Event']

type JsonBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } }
}
  ? B
  : never
type Query<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  parameters: { query?: infer Q }
}
  ? NonNullable<Q>
  : never

/** What POST /jobs takes: `{ queue, type, payload?, priority?, … }` (the library's JobInput, durations in ms). */
export type JobInput = JsonBody<'/api/v1/jobs', 'post'>
export type BatchInput = JsonBody<'/api/v1/batches', 'post'>
export type QueueCreateInput = JsonBody<'/api/v1/queues', 'post'>
export type QueueUpdateInput = JsonBody<'/api/v1/queues/{name}', 'patch'>
export type ScheduleCreateInput = JsonBody<'/api/v1/schedules', 'post'>
export type ScheduleUpdateInput = JsonBody<'/api/v1/schedules/{id}', 'patch'>
export type JobUpdateInput = JsonBody<'/api/v1/jobs/{id}', 'patch'>
/** GET /jobs's filters: `queue`, `status` (comma-separated), `type`, `owner`, `search`, `where`, `limit`, `cursor`, `sort`, `order`, … */
export type ListJobsQuery = Query<'/api/v1/jobs', 'get'>
export type ListBatchesQuery = Query<'/api/v1/batches', 'get'>

/** A file to send with a job: its name, bytes (a Blob, bytes or text) and media type. */
export interface UploadFile {
  name: string
  data: Blob | Uint8Array | ArrayBuffer | string
  /** Default: the Blob's own type, else application/octet-stream. */
  mediaType?: string
}

export interface WaitForJobOptions {
  /** Give up after this long with WAIT_TIMEOUT (as the library does). Default: a day. */
  timeoutMs?: number
  signal?: AbortSignal
}

/** One long poll of GET /jobs/{id}/result lasts at most this (the route's own cap). */
const MAX_POLL_MS = 60_000
const DAY_MS = 86_400_000

export class DocketClient {
  /** The typed openapi-fetch client beneath, for a route this class has no verb for. */
  readonly api: Api
  readonly #options: ClientOptions

  /** `new DocketClient({ url, key })`, or `new DocketClient(url, key)`. */
  constructor(options: ClientOptions | string, key?: string) {
    this.#options = typeof options === 'string' ? { url: options, ...(key ? { key } : {}) } : options
    this.api = createApi(this.#options)
  }

  // Jobs

  add(input: JobInput): Promise<Job> {
    return unwrap(this.api.POST('/api/v1/jobs', { body: input }))
  }

  /** Many jobs in one transaction: all are added, or none. */
  async addMany(inputs: JobInput[]): Promise<Job[]> {
    return (await unwrap(this.api.POST('/api/v1/jobs/bulk', { body: { jobs: inputs } }))).jobs
  }

  /** A batch of jobs, with an optional `then` job once all of it has ended. */
  addBatch(input: BatchInput) {
    return unwrap(this.api.POST('/api/v1/batches', { body: input }))
  }

  /** A job with input files, streamed as multipart (the job field first, as the server requires). */
  async upload(input: JobInput, files: UploadFile[]): Promise<{ job: Job; artifacts: Artifact[] }> {
    const form = new FormData()
    form.set('job', JSON.stringify(input))
    for (const f of files) form.append('file', toBlob(f), f.name)
    return unwrap(
      this.api.POST('/api/v1/jobs/upload', {
        body: form as never,
        bodySerializer: (body: unknown) => body as FormData,
      }),
    ) as Promise<{ job: Job; artifacts: Artifact[] }>
  }

  /** A job with its events, attempts, dependencies and artifacts. NOT_FOUND for an unknown one (or someone else's). */
  get(id: string): Promise<JobDetail> {
    return unwrap(this.api.GET('/api/v1/jobs/{id}', { params: { path: { id } } }))
  }

  /** One page; pass `nextCursor` back as `cursor`. `list(...)` for every page as one iterator: `jobs(...)`. */
  list(query: ListJobsQuery = {}): Promise<JobPage> {
    return unwrap(this.api.GET('/api/v1/jobs', { params: { query } }))
  }

  /** Every matching job, page by page, as an async iterator. */
  async *jobs(query: ListJobsQuery = {}): AsyncGenerator<Job> {
    let cursor = query.cursor
    for (;;) {
      const page = await this.list({ ...query, ...(cursor ? { cursor } : {}) })
      yield* page.jobs
      if (!page.nextCursor) return
      cursor = page.nextCursor
    }
  }

  cancel(id: string): Promise<Job> {
    return unwrap(this.api.POST('/api/v1/jobs/{id}/cancel', { params: { path: { id } } }))
  }

  retry(id: string): Promise<Job> {
    return unwrap(this.api.POST('/api/v1/jobs/{id}/retry', { params: { path: { id } } }))
  }

  async promote(id: string): Promise<void> {
    await unwrap(this.api.POST('/api/v1/jobs/{id}/promote', { params: { path: { id } } }))
  }

  /** Changes a job's priority (and what else PATCH /jobs/{id} takes). */
  update(id: string, patch: JobUpdateInput): Promise<Job> {
    return unwrap(
      this.api.PATCH('/api/v1/jobs/{id}', { params: { path: { id } }, body: patch }),
    ) as Promise<Job>
  }

  async remove(id: string): Promise<void> {
    await unwrap(this.api.DELETE('/api/v1/jobs/{id}', { params: { path: { id } } }))
  }

  /**
   * The job once it has completed, failed or been cancelled: long polls of
   * GET /jobs/{id}/result until then. WAIT_TIMEOUT after `timeoutMs`, like the
   * library's `docket.waitForJob`.
   */
  async waitForJob(id: string, options: WaitForJobOptions = {}): Promise<JobDetail> {
    const timeoutMs = options.timeoutMs ?? DAY_MS
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const waitMs = Math.max(0, Math.min(MAX_POLL_MS, deadline - Date.now()))
      const { data, error, response } = await this.api.GET('/api/v1/jobs/{id}/result', {
        params: { path: { id }, query: { waitMs } },
        ...(options.signal ? { signal: options.signal } : {}),
      })
      if (response.status === 200) return data as JobDetail
      if (response.status !== 202) return unwrap(Promise.resolve({ data, error, response })) as never
      if (Date.now() >= deadline) throw waitTimeout(id, timeoutMs, String((data as unknown as Job).status))
    }
  }

  /**
   * The live feed (Server-Sent Events) as an async iterator: every event the
   * key may see, optionally of one queue or job, from `after` (an event id) or
   * from now. A dropped connection is resumed with Last-Event-ID, so no event
   * is missed or repeated. Stop with `break` or `signal`.
   */
  events(options: EventsOptions = {}): AsyncGenerator<FeedEvent> {
    return readEvents(this.#options, options)
  }

  // Files

  async artifacts(jobId: string): Promise<Artifact[]> {
    return (await unwrap(this.api.GET('/api/v1/jobs/{id}/artifacts', { params: { path: { id: jobId } } })))
      .artifacts as Artifact[]
  }

  /** An artifact's bytes. */
  async download(artifactId: string): Promise<Uint8Array> {
    const { error, response } = await this.api.GET('/api/v1/artifacts/{id}', {
      params: { path: { id: artifactId } },
      parseAs: 'stream',
    })
    if (!response.ok) await unwrap(Promise.resolve({ error, response }))
    return new Uint8Array(await response.arrayBuffer())
  }

  // Queues

  async listQueues(): Promise<Queue[]> {
    return (await unwrap(this.api.GET('/api/v1/queues'))).queues as Queue[]
  }
  getQueue(name: string): Promise<Queue> {
    return unwrap(this.api.GET('/api/v1/queues/{name}', { params: { path: { name } } })) as Promise<Queue>
  }
  createQueue(input: QueueCreateInput): Promise<Queue> {
    return unwrap(this.api.POST('/api/v1/queues', { body: input })) as Promise<Queue>
  }
  updateQueue(name: string, patch: QueueUpdateInput): Promise<Queue> {
    return unwrap(
      this.api.PATCH('/api/v1/queues/{name}', { params: { path: { name } }, body: patch }),
    ) as Promise<Queue>
  }
  pauseQueue(name: string): Promise<Queue> {
    return unwrap(
      this.api.POST('/api/v1/queues/{name}/pause', { params: { path: { name } } }),
    ) as Promise<Queue>
  }
  resumeQueue(name: string): Promise<Queue> {
    return unwrap(
      this.api.POST('/api/v1/queues/{name}/resume', { params: { path: { name } } }),
    ) as Promise<Queue>
  }
  async deleteQueue(name: string): Promise<void> {
    await unwrap(this.api.DELETE('/api/v1/queues/{name}', { params: { path: { name } } }))
  }
  /** A queue's statistics, or every queue's without a name. */
  stats(queue?: string): Promise<Stats> {
    return (
      queue === undefined
        ? unwrap(this.api.GET('/api/v1/stats'))
        : unwrap(this.api.GET('/api/v1/queues/{name}/stats', { params: { path: { name: queue } } }))
    ) as Promise<Stats>
  }

  // Batches

  getBatch(id: string): Promise<Batch> {
    return unwrap(this.api.GET('/api/v1/batches/{id}', { params: { path: { id } } })) as Promise<Batch>
  }
  listBatches(query: ListBatchesQuery = {}) {
    return unwrap(this.api.GET('/api/v1/batches', { params: { query } }))
  }
  cancelBatch(id: string) {
    return unwrap(this.api.POST('/api/v1/batches/{id}/cancel', { params: { path: { id } } }))
  }
  retryBatch(id: string) {
    return unwrap(this.api.POST('/api/v1/batches/{id}/retry', { params: { path: { id } } }))
  }

  // Schedules

  async listSchedules(filter: { name?: string } = {}): Promise<ScheduleDetail[]> {
    return (await unwrap(this.api.GET('/api/v1/schedules', { params: { query: filter } })))
      .schedules as ScheduleDetail[]
  }
  getSchedule(id: string): Promise<ScheduleDetail> {
    return unwrap(
      this.api.GET('/api/v1/schedules/{id}', { params: { path: { id } } }),
    ) as Promise<ScheduleDetail>
  }
  createSchedule(input: ScheduleCreateInput): Promise<Schedule> {
    return unwrap(this.api.POST('/api/v1/schedules', { body: input })) as Promise<Schedule>
  }
  updateSchedule(id: string, patch: ScheduleUpdateInput): Promise<Schedule> {
    return unwrap(
      this.api.PATCH('/api/v1/schedules/{id}', { params: { path: { id } }, body: patch }),
    ) as Promise<Schedule>
  }
  pauseSchedule(id: string): Promise<Schedule> {
    return unwrap(
      this.api.POST('/api/v1/schedules/{id}/pause', { params: { path: { id } } }),
    ) as Promise<Schedule>
  }
  resumeSchedule(id: string): Promise<Schedule> {
    return unwrap(
      this.api.POST('/api/v1/schedules/{id}/resume', { params: { path: { id } } }),
    ) as Promise<Schedule>
  }
  runSchedule(id: string): Promise<ScheduleRun> {
    return unwrap(
      this.api.POST('/api/v1/schedules/{id}/run', { params: { path: { id } } }),
    ) as Promise<ScheduleRun>
  }
  async deleteSchedule(id: string): Promise<void> {
    await unwrap(this.api.DELETE('/api/v1/schedules/{id}', { params: { path: { id } } }))
  }

  // Workers, keys, health

  async listWorkers() {
    return (await unwrap(this.api.GET('/api/v1/workers'))).workers
  }
  async listKeys(): Promise<ApiKey[]> {
    return (await unwrap(this.api.GET('/api/v1/keys'))).keys as ApiKey[]
  }
  /** The new key's record with the key itself, shown only this once. */
  createKey(name: string, role: 'admin' | 'user' | 'worker'): Promise<CreatedApiKey> {
    return unwrap(this.api.POST('/api/v1/keys', { body: { name, role } })) as Promise<CreatedApiKey>
  }
  async revokeKey(id: string): Promise<void> {
    await unwrap(this.api.DELETE('/api/v1/keys/{id}', { params: { path: { id } } }))
  }
  health() {
    return unwrap(this.api.GET('/health'))
  }

  // The library's names for the same verbs, so code moves between `docket` and `docket/client` unchanged.

  getJob(id: string): Promise<JobDetail> {
    return this.get(id)
  }
  listJobs(query: ListJobsQuery = {}): Promise<JobPage> {
    return this.list(query)
  }
  cancelJob(id: string): Promise<Job> {
    return this.cancel(id)
  }
  retryJob(id: string): Promise<Job> {
    return this.retry(id)
  }
  removeJob(id: string): Promise<void> {
    return this.remove(id)
  }
  addWithFiles(input: JobInput, files: UploadFile[]): Promise<{ job: Job; artifacts: Artifact[] }> {
    return this.upload(input, files)
  }
}

function toBlob(file: UploadFile): Blob {
  const type = file.mediaType ?? (file.data instanceof Blob ? file.data.type : '') ?? ''
  if (file.data instanceof Blob) return file.mediaType ? new Blob([file.data], { type }) : file.data
  return new Blob([file.data as BlobPart], { type: type || 'application/octet-stream' })
}
