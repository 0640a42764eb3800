/**
 * What the CLI needs from Docket, two ways: straight on a database (--db)
 * or through a server's HTTP API (--url and --key). Both return the API's
 * JSON shapes, so every command prints the same thing either way.
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { DocketError, type ErrorCode } from '../core/errors.js'
import type { MatchCount } from '../core/job-search.js'
import type { JobInput, ListJobsInput, QueueCreateInput, QueueUpdateInput } from '../core/options.js'
import type { ScheduleCreateInput, ScheduleUpdateInput } from '../core/schedules.js'
import { waitTimeout } from '../docket/results.js'
import type { Docket } from '../docket.js'
import { createKey } from '../server/auth.js'
import { accessOf } from '../server/internals.js'
import { apiKeyJson, revokeKey } from '../server/routes/keys.js'
import { MAX_RESULT_WAIT_MS } from '../server/routes/results.js'
import { scheduleDetailJson, scheduleJson, scheduleRunJson } from '../server/schedule-views.js'
import { artifactJson, batchJson, jobDetailJson, jobJson, queueJson, workerJson } from '../server/views.js'
import type { Role } from '../storage/store.js'

type Json = Record<string, unknown>
export interface FileArg {
  path: string
  mediaType: string
}

export interface Client {
  listQueues(): Promise<Json[]>
  createQueue(input: QueueCreateInput): Promise<Json>
  updateQueue(name: string, patch: QueueUpdateInput): Promise<Json>
  setQueueStatus(name: string, action: 'pause' | 'resume'): Promise<Json>
  addJob(input: JobInput, files: FileArg[]): Promise<Json>
  getJob(id: string): Promise<Json>
  /** The job once it has ended (as getJob), waiting up to `timeoutMs`; WAIT_TIMEOUT after. */
  waitJob(id: string, timeoutMs: number): Promise<Json>
  listJobs(filter: ListJobsInput): Promise<JobList>
  jobAction(id: string, action: 'cancel' | 'retry' | 'promote' | 'remove'): Promise<Json>
  getBatch(id: string): Promise<Json>
  batchAction(id: string, action: 'cancel' | 'retry'): Promise<Json>
  listWorkers(): Promise<Json[]>
  /** Schedules with their next and latest runs; by name when given. */
  listSchedules(filter: { name?: string }): Promise<Json[]>
  getSchedule(id: string): Promise<Json>
  createSchedule(input: ScheduleCreateInput): Promise<Json>
  updateSchedule(id: string, patch: ScheduleUpdateInput): Promise<Json>
  /** pause and resume answer the schedule, run the run it made. */
  scheduleAction(id: string, action: 'pause' | 'resume' | 'run'): Promise<Json>
  deleteSchedule(id: string): Promise<void>
  stats(queue?: string): Promise<Json>
  listKeys(): Promise<Json[]>
  /** The new key's record with the key itself, which is shown only this once. */
  createKey(name: string, role: Role): Promise<Json>
  revokeKey(id: string): Promise<void>
  close(): Promise<void>
}

/** A page of jobs as the API answers it; `count` when the filter asked to count. */
export interface JobList {
  jobs: Json[]
  nextCursor: string | null
  count?: MatchCount
}

const j = (value: unknown) => value as Json

export class DirectClient implements Client {
  constructor(private readonly docket: Docket) {}
  async listQueues() {
    const counts = await this.docket.countJobs()
    return (await this.docket.listQueues()).map((q) => j(queueJson(q, counts[q.name])))
  }
  createQueue = async (input: QueueCreateInput) => j(queueJson(await this.docket.createQueue(input)))
  updateQueue = async (name: string, patch: QueueUpdateInput) =>
    j(queueJson(await this.docket.updateQueue(name, patch)))
  setQueueStatus = async (name: string, action: 'pause' | 'resume') =>
    j(
      queueJson(
        action === 'pause' ? await this.docket.pauseQueue(name) : await this.docket.resumeQueue(name),
      ),
    )
  async addJob(input: JobInput, files: FileArg[]) {
    if (files.length === 0) return j(jobJson(await this.docket.add(input)))
    const loaded = await Promise.all(
      files.map(async (f) => ({
        name: basename(f.path),
        mediaType: f.mediaType,
        data: await readFile(f.path),
      })),
    )
    const { job, artifacts } = await this.docket.addWithFiles(input, loaded)
    return { ...j(jobJson(job)), artifacts: artifacts.map(artifactJson) }
  }
  getJob = async (id: string) => j(jobDetailJson(await this.docket.getJob(id)))
  waitJob = async (id: string, timeoutMs: number) =>
    j(jobDetailJson(await this.docket.waitForJob(id, { timeoutMs })))
  async listJobs(filter: ListJobsInput) {
    const page = await this.docket.listJobs(filter)
    const jobs = page.jobs.map((x) => j(jobJson(x)))
    return page.count
      ? { jobs, nextCursor: page.nextCursor, count: page.count }
      : { jobs, nextCursor: page.nextCursor }
  }
  async jobAction(id: string, action: 'cancel' | 'retry' | 'promote' | 'remove') {
    if (action === 'remove') {
      await this.docket.removeJob(id)
      return { ok: true }
    }
    if (action === 'promote') {
      await this.docket.promote(id)
      return j(jobJson(await this.docket.getJob(id)))
    }
    return j(jobJson(action === 'cancel' ? await this.docket.cancelJob(id) : await this.docket.retryJob(id)))
  }
  getBatch = async (id: string) => j(batchJson(await this.docket.getBatch(id)))
  async batchAction(id: string, action: 'cancel' | 'retry') {
    const changed = action === 'cancel' ? await this.docket.cancelBatch(id) : await this.docket.retryBatch(id)
    return { batch: batchJson(await this.docket.getBatch(id)), changed }
  }
  listWorkers = async () => (await this.docket.listWorkers()).map((w) => j(workerJson(w, this.docket.now())))
  async listSchedules(filter: { name?: string }) {
    const list = await this.docket.listSchedules(filter)
    return Promise.all(
      list.map(async (x) => j(scheduleDetailJson(await this.docket.getSchedule(x.id, { next: 3 })))),
    )
  }
  getSchedule = async (id: string) => j(scheduleDetailJson(await this.docket.getSchedule(id)))
  createSchedule = async (input: ScheduleCreateInput) =>
    j(scheduleJson(await this.docket.createSchedule(input)))
  updateSchedule = async (id: string, patch: ScheduleUpdateInput) =>
    j(scheduleJson(await this.docket.updateSchedule(id, patch)))
  async scheduleAction(id: string, action: 'pause' | 'resume' | 'run') {
    if (action === 'run') return j(scheduleRunJson(await this.docket.runSchedule(id)))
    const s = action === 'pause' ? await this.docket.pauseSchedule(id) : await this.docket.resumeSchedule(id)
    return j(scheduleJson(s))
  }
  deleteSchedule = (id: string) => this.docket.deleteSchedule(id)
  stats = async (queue?: string) => j(JSON.parse(JSON.stringify(await this.docket.stats(queue))))
  listKeys = async () => (await accessOf(this.docket).listApiKeys()).map((k) => j(apiKeyJson(k)))
  async createKey(name: string, role: Role) {
    const { key, info } = await createKey(this.docket, name, role)
    return { ...apiKeyJson(info), key }
  }
  revokeKey = (id: string) => revokeKey(this.docket, id)
  close = () => this.docket.close()
}

/** A server that does not answer: the CLI exits 3 for it, not 1. */
export class ConnectionError extends Error {}

export class HttpClient implements Client {
  readonly #base: string
  constructor(
    url: string,
    private readonly key: string | undefined,
  ) {
    this.#base = `${url.replace(/\/+$/, '')}/api/v1`
  }

  async #call(method: string, path: string, body?: unknown): Promise<Json> {
    return (await this.#request(method, path, body)).data
  }

  async #request(method: string, path: string, body?: unknown): Promise<{ status: number; data: Json }> {
    const headers: Record<string, string> = {}
    if (this.key) headers.authorization = `Bearer ${this.key}`
    let payload: BodyInit | undefined
    if (body instanceof FormData) payload = body
    else if (body !== undefined) {
      headers['content-type'] = 'application/json'
      payload = JSON.stringify(body)
    }
    let response: Response
    try {
      response = await fetch(`${this.#base}${path}`, { method, headers, body: payload })
    } catch (error) {
      const cause = (error as { cause?: { code?: string; errors?: { code?: string }[] } }).cause
      const why =
        cause?.code ??
        cause?.errors?.[0]?.code ??
        (cause as Error | undefined)?.message ??
        (error as Error).message
      throw new ConnectionError(`cannot reach the Docket server at ${this.#base} (${why})`)
    }
    const text = await response.text()
    const data = text ? (JSON.parse(text) as Json) : {}
    if (!response.ok) {
      const e = (data.error ?? {}) as { code?: ErrorCode; message?: string; details?: Json }
      throw new DocketError(e.code ?? 'INTERNAL', e.message ?? `HTTP ${response.status}`, e.details ?? {})
    }
    return { status: response.status, data }
  }

  listQueues = async () => (await this.#call('GET', '/queues')).queues as Json[]
  createQueue = (input: QueueCreateInput) => this.#call('POST', '/queues', input)
  updateQueue = (name: string, patch: QueueUpdateInput) =>
    this.#call('PATCH', `/queues/${encodeURIComponent(name)}`, patch)
  setQueueStatus = (name: string, action: 'pause' | 'resume') =>
    this.#call('POST', `/queues/${encodeURIComponent(name)}/${action}`)
  async addJob(input: JobInput, files: FileArg[]) {
    if (files.length === 0) return this.#call('POST', '/jobs', input)
    const form = new FormData()
    form.set('job', JSON.stringify(input))
    for (const f of files)
      form.append('file', new Blob([await readFile(f.path)], { type: f.mediaType }), basename(f.path))
    const { job, artifacts } = (await this.#call('POST', '/jobs/upload', form)) as {
      job: Json
      artifacts: Json[]
    }
    return { ...job, artifacts }
  }
  getJob = (id: string) => this.#call('GET', `/jobs/${encodeURIComponent(id)}`)
  /** Long polls of at most MAX_RESULT_WAIT_MS each, until the job has ended or the time is up. */
  async waitJob(id: string, timeoutMs: number) {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const waitMs = Math.max(0, Math.min(MAX_RESULT_WAIT_MS, Math.ceil(deadline - performance.now())))
      const { status, data } = await this.#request(
        'GET',
        `/jobs/${encodeURIComponent(id)}/result?waitMs=${waitMs}`,
      )
      if (status === 200) return data
      if (performance.now() >= deadline) throw waitTimeout(id, timeoutMs, String(data.status))
    }
  }
  async listJobs(filter: ListJobsInput) {
    const query = new URLSearchParams()
    for (const [k, v] of Object.entries(filter))
      if (v !== undefined) query.set(k, Array.isArray(v) ? v.join(',') : String(v))
    return (await this.#call('GET', `/jobs?${query}`)) as unknown as JobList
  }
  jobAction = (id: string, action: 'cancel' | 'retry' | 'promote' | 'remove') =>
    action === 'remove'
      ? this.#call('DELETE', `/jobs/${encodeURIComponent(id)}`)
      : this.#call('POST', `/jobs/${encodeURIComponent(id)}/${action}`)
  getBatch = (id: string) => this.#call('GET', `/batches/${encodeURIComponent(id)}`)
  batchAction = (id: string, action: 'cancel' | 'retry') =>
    this.#call('POST', `/batches/${encodeURIComponent(id)}/${action}`)
  listWorkers = async () => (await this.#call('GET', '/workers')).workers as Json[]
  listSchedules = async (filter: { name?: string }) =>
    (await this.#call('GET', `/schedules${filter.name ? `?name=${encodeURIComponent(filter.name)}` : ''}`))
      .schedules as Json[]
  getSchedule = (id: string) => this.#call('GET', `/schedules/${encodeURIComponent(id)}`)
  createSchedule = (input: ScheduleCreateInput) => this.#call('POST', '/schedules', input)
  updateSchedule = (id: string, patch: ScheduleUpdateInput) =>
    this.#call('PATCH', `/schedules/${encodeURIComponent(id)}`, patch)
  scheduleAction = (id: string, action: 'pause' | 'resume' | 'run') =>
    this.#call('POST', `/schedules/${encodeURIComponent(id)}/${action}`)
  deleteSchedule = async (id: string) => {
    await this.#call('DELETE', `/schedules/${encodeURIComponent(id)}`)
  }
  stats = (queue?: string) =>
    this.#call('GET', queue ? `/queues/${encodeURIComponent(queue)}/stats` : '/stats')
  listKeys = async () => (await this.#call('GET', '/keys')).keys as Json[]
  createKey = (name: string, role: Role) => this.#call('POST', '/keys', { name, role })
  revokeKey = async (id: string) => {
    await this.#call('DELETE', `/keys/${encodeURIComponent(id)}`)
  }
  close = async () => {}
}
