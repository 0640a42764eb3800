/**
 * What the CLI needs from Docket, two ways: straight on a database (--db)
 * or through a server's HTTP API (--url and --key). Both return the API's
 * JSON shapes, so every command prints the same thing either way.
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { DocketClient } from '../client/client.js'
import type { MatchCount } from '../core/job-search.js'
import type { JobInput, ListJobsInput, QueueCreateInput, QueueUpdateInput } from '../core/options.js'
import type { ScheduleCreateInput, ScheduleUpdateInput } from '../core/schedules.js'
import type { Docket } from '../docket.js'
import { createKey } from '../server/auth.js'
import { accessOf } from '../server/internals.js'
import { apiKeyJson, revokeKey } from '../server/routes/keys.js'
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

/** A server that does not answer: the CLI exits 3 for it, not 1 (docket/client's own). */
export { ConnectionError } from '../client/http.js'

/** The server's HTTP API through docket/client, answering the same JSON shapes as DirectClient. */
export class HttpClient implements Client {
  readonly #api: DocketClient
  constructor(url: string, key: string | undefined) {
    // No retries: a refused command says so at once rather than waiting out a Retry-After.
    this.#api = new DocketClient({ url, ...(key ? { key } : {}), retries: 0 })
  }

  listQueues = async () => j(await this.#api.listQueues()) as unknown as Json[]
  createQueue = async (input: QueueCreateInput) => j(await this.#api.createQueue(input as never))
  updateQueue = async (name: string, patch: QueueUpdateInput) =>
    j(await this.#api.updateQueue(name, patch as never))
  setQueueStatus = async (name: string, action: 'pause' | 'resume') =>
    j(action === 'pause' ? await this.#api.pauseQueue(name) : await this.#api.resumeQueue(name))
  async addJob(input: JobInput, files: FileArg[]) {
    if (files.length === 0) return j(await this.#api.add(input as never))
    const loaded = await Promise.all(
      files.map(async (f) => ({
        name: basename(f.path),
        mediaType: f.mediaType,
        data: await readFile(f.path),
      })),
    )
    const { job, artifacts } = await this.#api.upload(input as never, loaded)
    return { ...j(job), artifacts }
  }
  getJob = async (id: string) => j(await this.#api.get(id))
  waitJob = async (id: string, timeoutMs: number) => j(await this.#api.waitForJob(id, { timeoutMs }))
  async listJobs(filter: ListJobsInput) {
    const query: Record<string, string> = {}
    for (const [k, v] of Object.entries(filter))
      if (v !== undefined) query[k] = Array.isArray(v) ? v.join(',') : String(v)
    return (await this.#api.list(query as never)) as unknown as JobList
  }
  async jobAction(id: string, action: 'cancel' | 'retry' | 'promote' | 'remove') {
    if (action === 'remove') {
      await this.#api.remove(id)
      return { ok: true }
    }
    if (action === 'promote') {
      await this.#api.promote(id)
      return j(await this.#api.get(id))
    }
    return j(action === 'cancel' ? await this.#api.cancel(id) : await this.#api.retry(id))
  }
  getBatch = async (id: string) => j(await this.#api.getBatch(id))
  batchAction = async (id: string, action: 'cancel' | 'retry') =>
    j(action === 'cancel' ? await this.#api.cancelBatch(id) : await this.#api.retryBatch(id))
  listWorkers = async () => (await this.#api.listWorkers()) as unknown as Json[]
  listSchedules = async (filter: { name?: string }) =>
    (await this.#api.listSchedules(filter)) as unknown as Json[]
  getSchedule = async (id: string) => j(await this.#api.getSchedule(id))
  createSchedule = async (input: ScheduleCreateInput) => j(await this.#api.createSchedule(input as never))
  updateSchedule = async (id: string, patch: ScheduleUpdateInput) =>
    j(await this.#api.updateSchedule(id, patch as never))
  async scheduleAction(id: string, action: 'pause' | 'resume' | 'run') {
    if (action === 'run') return j(await this.#api.runSchedule(id))
    return j(action === 'pause' ? await this.#api.pauseSchedule(id) : await this.#api.resumeSchedule(id))
  }
  deleteSchedule = (id: string) => this.#api.deleteSchedule(id)
  stats = async (queue?: string) => j(await this.#api.stats(queue))
  listKeys = async () => (await this.#api.listKeys()) as unknown as Json[]
  createKey = async (name: string, role: Role) => j(await this.#api.createKey(name, role as never))
  revokeKey = (id: string) => this.#api.revokeKey(id)
  close = async () => {}
}
