/**
 * Calls to /api/v1 with the session cookie (httpOnly: scripts never see it,
 * and it holds a session id, not the key) and, for every change, the
 * session's CSRF token; the browser adds the page's Origin, which the server
 * checks too.
 */

import { observeServerTime } from '../lib/server-clock.js'
import type {
  Batch,
  BulkFilter,
  Job,
  JobDetail,
  JobFilter,
  JobPage,
  JobSuggestions,
  Queue,
  Schedule,
  ScheduleRun,
  Session,
  Stats,
  UpstreamJob,
  Worker,
} from './types.js'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

let csrfToken = ''
let onSignedOut: () => void = () => {}

export function setCsrfToken(token: string): void {
  csrfToken = token
}

/** Called when the server says the session is gone (401), so the app can show the sign-in page. */
export function whenSignedOut(listener: () => void): void {
  onSignedOut = listener
}

export async function call<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken
  const sentAt = Date.now()
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  observeServerTime(response.headers.get('x-server-time'), sentAt)
  const text = await response.text()
  let json: unknown = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    // not JSON: reported below
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | null)?.error
    if (response.status === 401 && path !== '/session') onSignedOut()
    // The token this page holds may be another session's (signed in again in another tab): fetch the current one and try once more.
    if (response.status === 403 && method !== 'GET' && !retried && /csrf/i.test(error?.message ?? '')) {
      csrfToken = (await call<Session>('GET', '/session')).csrfToken
      return call<T>(method, path, body, true)
    }
    throw new ApiError(
      response.status,
      error?.code ?? 'HTTP',
      error?.message ?? `${method} ${path}: ${response.status}`,
    )
  }
  return json as T
}

/** `?a=1&b=2` from the defined, non-empty values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

const at = (name: string) => encodeURIComponent(name)

export const api = {
  session: () => call<Session>('GET', '/session'),
  signIn: (key: string) => call<Session>('POST', '/session', { key }),
  signOut: () => call<{ ok: true }>('DELETE', '/session'),

  queues: () => call<{ queues: Queue[] }>('GET', '/queues').then((r) => r.queues),
  queue: (name: string) => call<Queue>('GET', `/queues/${at(name)}`),
  updateQueue: (name: string, patch: Partial<Pick<Queue, 'mode' | 'concurrency' | 'rateLimit'>>) =>
    call<Queue>('PATCH', `/queues/${at(name)}`, patch),
  pauseQueue: (name: string) => call<Queue>('POST', `/queues/${at(name)}/pause`),
  resumeQueue: (name: string) => call<Queue>('POST', `/queues/${at(name)}/resume`),
  promoteQueue: (name: string) => call<{ promoted: number }>('POST', `/queues/${at(name)}/promote`),
  queueStats: (name: string) => call<Stats>('GET', `/queues/${at(name)}/stats`),
  stats: () => call<Stats>('GET', '/stats'),

  jobs: (filter: JobFilter) => call<JobPage>('GET', `/jobs${query({ ...filter })}`),
  jobSuggestions: () => call<JobSuggestions>('GET', '/jobs/suggestions'),
  job: (id: string) => call<JobDetail>('GET', `/jobs/${at(id)}`),
  upstream: (id: string) => call<{ upstream: UpstreamJob[] }>('GET', `/jobs/${at(id)}/upstream`),
  jobAction: (id: string, action: 'retry' | 'cancel' | 'promote') =>
    call<Job>('POST', `/jobs/${at(id)}/${action}`),
  setPriority: (id: string, priority: number) => call<Job>('PATCH', `/jobs/${at(id)}`, { priority }),
  deleteJob: (id: string) => call<{ ok: true }>('DELETE', `/jobs/${at(id)}`),
  /**
   * Acts on every job the filter matches, done by the server (POST /jobs/actions/{action}).
   * Without a queue it means every queue, which the server takes only with `all: true`: the
   * confirmation the page asked for ("Retry all 65 failed jobs, on every page?") is that.
   */
  actOnMatching: (action: 'retry' | 'cancel' | 'promote' | 'delete', filter: BulkFilter) =>
    call<{ matched: number; changed: number }>('POST', `/jobs/actions/${action}`, {
      filter,
      ...(filter.queue ? {} : { all: true }),
    }),

  batches: (before?: string) =>
    call<{ batches: Batch[]; nextBefore: string | null }>('GET', `/batches${query({ before, limit: 25 })}`),
  batch: (id: string) => call<Batch>('GET', `/batches/${at(id)}`),
  batchAction: (id: string, action: 'cancel' | 'retry') =>
    call<{ batch: Batch; changed: number }>('POST', `/batches/${at(id)}/${action}`),

  workers: () => call<{ workers: Worker[] }>('GET', '/workers').then((r) => r.workers),
  /** Forgets a stopped or lost worker (admin). */
  removeWorker: (id: string) => call<{ ok: true }>('POST', `/workers/${at(id)}/remove`),

  schedules: () =>
    call<{ schedules: Schedule[] }>('GET', `/schedules${query({ next: 3, runs: 5 })}`).then(
      (r) => r.schedules,
    ),
  scheduleAction: (id: string, action: 'pause' | 'resume') =>
    call<Omit<Schedule, 'nextRuns' | 'runs'>>('POST', `/schedules/${at(id)}/${action}`),
  runSchedule: (id: string) => call<ScheduleRun>('POST', `/schedules/${at(id)}/run`),
}

export const artifactUrl = (id: string) => `/api/v1/artifacts/${at(id)}`
