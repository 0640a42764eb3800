/**
 * The SQLite driver: better-sqlite3 is synchronous, so every method is one transaction on one connection.
 * The Store is built from its parts by noun (storage/store.ts), each part from the file of that noun.
 */
import type { EventEmitter } from 'node:events'
import type {
  ArtifactStore,
  BatchStore,
  EventStore,
  JobControlStore,
  JobStore,
  KeyStore,
  LeadershipStore,
  LeaseStore,
  MaintenanceStore,
  NotificationStore,
  QueueStatsStore,
  QueueStore,
  ScheduleStore,
  SessionStore,
  Store,
  WorkerRegistryStore,
} from '../store.js'
import * as add from './add.js'
import * as attempts from './attempts.js'
import * as control from './control.js'
import { type Db, openSqlite, type SqliteContext } from './db.js'
import * as expiry from './expiry.js'
import * as groups from './groups.js'
import * as health from './health.js'
import * as keys from './keys.js'
import * as leadership from './leadership.js'
import * as leases from './leases.js'
import * as queues from './queues.js'
import * as rateLimits from './rate-limits.js'
import * as read from './read.js'
import * as schedules from './schedules.js'
import * as sessions from './sessions.js'
import * as workers from './workers.js'

export interface SqliteStoreOptions {
  /** The clock, in epoch milliseconds; tests replace it to stand for another process's clock. */
  now?: () => number
  /** Monotonic milliseconds (Clock.elapsedMs), which leases are judged by; with `now`, tests replace both. */
  elapsedMs?: () => number
  /** False: check the schema (SCHEMA_OLDER when behind), never change it. */
  migrate?: boolean
  /** How long a job list with `search` or `where` may run (search.ts). */
  searchTimeoutMs?: number
}

/** `target`: a file path, or the application's own better-sqlite3 handle, which close() leaves open. */
export function createSqliteStore(
  target: string | { database: Db },
  options: SqliteStoreOptions = {},
): Store {
  const ctx = openSqlite(target, {
    migrate: options.migrate ?? true,
    searchTimeoutMs: options.searchTimeoutMs,
  })
  if (options.now) ctx.now = options.now
  if (options.elapsedMs) ctx.elapsed = options.elapsedMs
  const owned = typeof target === 'string'
  const signal = workers.readySignal(owned ? target : ctx.db.name)
  ctx.ready = (queue) => queueMicrotask(() => signal.emit('ready', queue))
  let closed = false
  return {
    driver: 'sqlite',
    async close() {
      if (closed) return
      closed = true
      if (owned) ctx.db.close()
    },
    async ping() {
      ctx.db.prepare('SELECT 1').get()
    },
    ...queueStore(ctx),
    ...jobStore(ctx, signal),
    ...jobControlStore(ctx),
    ...leaseStore(ctx),
    ...queueStatsStore(ctx),
    ...maintenanceStore(ctx),
    ...batchStore(ctx),
    ...artifactStore(ctx),
    ...notificationStore(signal),
    ...eventStore(ctx),
    ...keyStore(ctx),
    ...sessionStore(ctx),
    ...workerRegistryStore(ctx),
    ...leadershipStore(ctx),
    ...scheduleStore(ctx),
  }
}

const queueStore = (ctx: SqliteContext): QueueStore => ({
  createQueue: async (q) => queues.createQueue(ctx, q),
  updateQueue: async (name, change) => queues.updateQueue(ctx, name, change),
  getQueue: async (name) => queues.getQueue(ctx, name),
  listQueues: async () => queues.listQueues(ctx),
  deleteQueue: async (name, force) => queues.deleteQueue(ctx, name, force),
})

const jobStore = (ctx: SqliteContext, signal: EventEmitter): JobStore => ({
  async addJobs(names, build, extras) {
    const result = add.addJobs(ctx, names, build, extras)
    for (const queue of new Set(result.jobs.filter((j) => j.status === 'waiting').map((j) => j.queue)))
      signal.emit('ready', queue)
    return result
  },
  getJob: async (id) => read.getJob(ctx, id),
  getJobAttempts: async (id) => attempts.getJobAttempts(ctx, id),
  getUpstreamJobs: async (id) => read.getUpstreamJobs(ctx, id),
  getJobEvents: async (id, afterId = 0, limit = 1000) => read.getJobEvents(ctx, id, afterId, limit),
  getJobDependencies: async (id) => read.getJobDependencies(ctx, id),
  listJobs: async (p) => read.listJobs(ctx, p),
  countMatchingJobs: async (p, upTo) => read.countMatchingJobs(ctx, p, upTo),
  recentQueueTypes: async (owner, sample) => read.recentQueueTypes(ctx, owner, sample),
  jobWorkerRegistrants: async (ids) => read.jobWorkerRegistrants(ctx, ids),
})

const jobControlStore = (ctx: SqliteContext): JobControlStore => ({
  cancelJob: async (id) => control.cancelJob(ctx, id),
  retryJob: async (id) => control.retryJob(ctx, id),
  setPriority: async (id, priority) => control.setPriority(ctx, id, priority),
  promoteJobs: async (target) => control.promoteJobs(ctx, target),
  removeJob: async (id) => control.removeJob(ctx, id),
})

const leaseStore = (ctx: SqliteContext): LeaseStore => ({
  claimJobs: async (p) => leases.claimJobs(ctx, p),
  rateLimitWaitMs: async (queues) => rateLimits.rateLimitWaitMs(ctx, queues),
  extendLeases: async (refs, leaseMs) => leases.extendLeases(ctx, refs, leaseMs),
  reportProgress: async (p) => leases.reportProgress(ctx, p),
  appendEvent: async (p) => leases.appendEvent(ctx, p),
  completeJobs: async (p) => leases.completeJobs(ctx, p),
  failJob: async (p) => leases.failJob(ctx, p),
  snoozeJob: async (p) => leases.snoozeJob(ctx, p),
  releaseJobs: async (refs) => leases.releaseJobs(ctx, refs),
  checkLeases: async (refs) => leases.checkLeases(ctx, refs),
})

const queueStatsStore = (ctx: SqliteContext): QueueStatsStore => ({
  countJobs: async (queue, owner) => read.countJobs(ctx, queue, owner ?? null),
  finishedJobs: async (queue, since, limit) => read.finishedJobs(ctx, queue, since, limit),
  queueHealth: async (queue, owner, now) => health.queueHealth(ctx, queue, owner, now),
  rateLimitUse: async (queue) => rateLimits.rateLimitUse(ctx, queue),
  groupCounts: async (queue, owner, limit) => groups.groupCounts(ctx, queue, owner, limit),
})

const maintenanceStore = (ctx: SqliteContext): MaintenanceStore => ({
  recoverExpiredLeases: async (fence) => leases.recoverExpiredLeases(ctx, fence),
  sweepExpiredLeases: async () => leases.sweepExpiredLeases(ctx),
  expireJobs: async (fence) => expiry.expireJobs(ctx, fence),
  cleanup: async (p) => control.cleanup(ctx, p),
})

const batchStore = (ctx: SqliteContext): BatchStore => ({
  getBatch: async (id) => read.getBatch(ctx, id),
  listBatches: async (params) => read.listBatches(ctx, params),
})

// No blobs: SQLite keeps artifact bytes in files (artifacts/local.ts).
const artifactStore = (ctx: SqliteContext): ArtifactStore => ({
  async addArtifact(a) {
    add.insertArtifact(ctx, a)
    return read.getArtifact(ctx, a.id)!
  },
  listArtifacts: async (jobId) => read.listArtifacts(ctx, jobId),
  getArtifact: async (id) => read.getArtifact(ctx, id),
})

const notificationStore = (signal: EventEmitter): NotificationStore => ({
  async notifyReady(queues) {
    for (const queue of new Set(queues)) signal.emit('ready', queue)
  },
  async onReady(listener) {
    signal.on('ready', listener)
    return async () => {
      signal.off('ready', listener)
    }
  },
  // No push on SQLite: workers find cancels with checkLeases, every cancelCheckMs.
  onCancelled: async () => async () => {},
})

const eventStore = (ctx: SqliteContext): EventStore => ({
  readEvents: async (cursor, limit, filter) => read.readEvents(ctx, cursor, limit, filter),
  eventsTail: async () => read.eventsTail(ctx),
  eventCursorAfter: async (id) => read.eventCursorAfter(ctx, id),
})

const keyStore = (ctx: SqliteContext): KeyStore => ({
  createApiKey: async (key) => keys.createApiKey(ctx, key),
  findApiKey: async (hash) => keys.findApiKey(ctx, hash),
  listApiKeys: async () => keys.listApiKeys(ctx),
  revokeApiKey: async (id) => keys.revokeApiKey(ctx, id),
  markApiKeyUsed: async (id) => keys.markApiKeyUsed(ctx, id),
})

const sessionStore = (ctx: SqliteContext): SessionStore => ({
  createSession: async (s) => sessions.createSession(ctx, s),
  findSession: async (hash) => sessions.findSession(ctx, hash),
  deleteSession: async (hash) => sessions.deleteSession(ctx, hash),
  createViewerToken: async (t) => sessions.createViewerToken(ctx, t),
  revokeViewerTokens: async (jobId) => sessions.revokeViewerTokens(ctx, jobId),
  findViewerToken: async (hash) => sessions.findViewerToken(ctx, hash),
})

const workerRegistryStore = (ctx: SqliteContext): WorkerRegistryStore => ({
  registerWorker: async (w) => workers.registerWorker(ctx, w),
  heartbeatWorker: async (id, load) => workers.heartbeatWorker(ctx, id, load),
  deregisterWorker: async (id) => workers.deregisterWorker(ctx, id),
  getWorker: async (id) => workers.getWorker(ctx, id),
  listWorkers: async () => workers.listWorkers(ctx),
  markLostWorkers: async (ms, fence) => workers.markLostWorkers(ctx, ms, fence),
  removeWorker: async (id) => workers.removeWorker(ctx, id),
  pruneWorkers: async (ms, fence) => workers.pruneWorkers(ctx, ms, fence),
})

const leadershipStore = (ctx: SqliteContext): LeadershipStore => ({
  acquireLeadership: async (name, holder, ttlMs) => leadership.acquireLeadership(ctx, name, holder, ttlMs),
  releaseLeadership: async (term) => leadership.releaseLeadership(ctx, term),
})

const scheduleStore = (ctx: SqliteContext): ScheduleStore => ({
  createSchedule: async (s) => schedules.createSchedule(ctx, s),
  updateSchedule: async (id, change) => schedules.updateSchedule(ctx, id, change),
  getSchedule: async (id) => schedules.getSchedule(ctx, id),
  listSchedules: async (filter) => schedules.listSchedules(ctx, filter),
  deleteSchedule: async (id) => schedules.deleteSchedule(ctx, id),
  listScheduleRuns: async (id, limit) => schedules.listScheduleRuns(ctx, id, limit),
  dueSchedules: async (limit) => schedules.dueSchedules(ctx, limit),
  fireSchedule: async (id, build, params) => schedules.fireSchedule(ctx, id, build, params),
})
