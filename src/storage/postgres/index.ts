/**
 * The PostgreSQL driver: a pool, with claim and complete as single round trips (SQL functions: see
 * migrations/README.md). The Store is built from its parts by noun (storage/store.ts), each part from
 * the file of that noun.
 */
import type { Clock } from '../../core/clock.js'
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
import { postgresBlobs } from './blobs.js'
import * as control from './control.js'
import { openPostgres, type PgContext, type PostgresOptions, sessionConnectionString } from './db.js'
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
import { recordPayloadLimit } from './settings.js'
import * as workers from './workers.js'

export interface PostgresStoreOptions extends PostgresOptions {
  /** A test's clock; statements then take their time from it instead of the database's `now()`. */
  clock?: Clock
  /** The Docket's payload limit, given explicitly: recorded in the database for add_job (settings.ts). */
  maxPayloadBytes?: number
  /** How long a job list with `search` or `where` may run: its statement_timeout (read.ts). */
  searchTimeoutMs?: number
}

/** `options.directUrl`: the server itself, when `url` is a pooler's; LISTEN and the migrations go there. */
export async function createPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const { clock, maxPayloadBytes, searchTimeoutMs, ...connection } = options
  const ctx = await openPostgres(url, connection)
  if (clock) ctx.clockNow = () => clock.now()
  if (searchTimeoutMs !== undefined) ctx.searchTimeoutMs = searchTimeoutMs
  if (maxPayloadBytes !== undefined) {
    try {
      await recordPayloadLimit(ctx, maxPayloadBytes)
    } catch (error) {
      await ctx.pool.end()
      throw error
    }
  }
  const listener = new workers.Notifications(sessionConnectionString(url, options.directUrl), ctx.schema)
  let closed = false
  return {
    driver: 'postgres',
    async close() {
      if (closed) return
      closed = true
      await listener.close()
      await ctx.pool.end()
    },
    async ping() {
      await ctx.query('SELECT 1')
    },
    ...queueStore(ctx),
    ...jobStore(ctx),
    ...jobControlStore(ctx),
    ...leaseStore(ctx),
    ...queueStatsStore(ctx),
    ...maintenanceStore(ctx),
    ...batchStore(ctx),
    ...artifactStore(ctx),
    ...notificationStore(ctx, listener),
    ...eventStore(ctx),
    ...keyStore(ctx),
    ...sessionStore(ctx),
    ...workerRegistryStore(ctx),
    ...leadershipStore(ctx),
    ...scheduleStore(ctx),
  }
}

const queueStore = (ctx: PgContext): QueueStore => ({
  createQueue: (q) => queues.createQueue(ctx, q),
  updateQueue: (name, change) => queues.updateQueue(ctx, name, change),
  getQueue: (name) => queues.getQueue(ctx, name),
  listQueues: () => queues.listQueues(ctx),
  deleteQueue: (name, force) => queues.deleteQueue(ctx, name, force),
})

const jobStore = (ctx: PgContext): JobStore => ({
  addJobs: (names, build, extras) => add.addJobs(ctx, names, build, extras),
  getJob: (id) => read.getJob(ctx, id),
  getJobEvents: (id, afterId = 0, limit = 1000) => read.getJobEvents(ctx, id, afterId, limit),
  getJobDependencies: (id) => read.getJobDependencies(ctx, id),
  getJobAttempts: (id) => attempts.getJobAttempts(ctx, id),
  getUpstreamJobs: (id) => read.getUpstreamJobs(ctx, id),
  listJobs: (p) => read.listJobs(ctx, p),
  countMatchingJobs: (p, upTo) => read.countMatchingJobs(ctx, p, upTo),
  recentQueueTypes: (owner, sample) => read.recentQueueTypes(ctx, owner, sample),
  jobWorkerRegistrants: (ids) => read.jobWorkerRegistrants(ctx, ids),
})

const jobControlStore = (ctx: PgContext): JobControlStore => ({
  cancelJob: (id) => control.cancelJob(ctx, id),
  retryJob: (id) => control.retryJob(ctx, id),
  setPriority: (id, priority) => control.setPriority(ctx, id, priority),
  promoteJobs: (target) => control.promoteJobs(ctx, target),
  removeJob: (id) => control.removeJob(ctx, id),
})

const leaseStore = (ctx: PgContext): LeaseStore => ({
  claimJobs: (p) => leases.claimJobs(ctx, p),
  rateLimitWaitMs: (queues) => rateLimits.rateLimitWaitMs(ctx, queues),
  extendLeases: (refs, leaseMs) => leases.extendLeases(ctx, refs, leaseMs),
  reportProgress: (p) => leases.reportProgress(ctx, p),
  appendEvent: (p) => leases.appendEvent(ctx, p),
  completeJobs: (p) => leases.completeJobs(ctx, p),
  failJob: (p) => leases.failJob(ctx, p),
  snoozeJob: (p) => leases.snoozeJob(ctx, p),
  releaseJobs: (refs) => leases.releaseJobs(ctx, refs),
  checkLeases: (refs) => leases.checkLeases(ctx, refs),
})

const queueStatsStore = (ctx: PgContext): QueueStatsStore => ({
  countJobs: (queue, owner) => read.countJobs(ctx, queue, owner ?? null),
  finishedJobs: (queue, since, limit) => read.finishedJobs(ctx, queue, since, limit),
  queueHealth: (queue, owner, now) => health.queueHealth(ctx, queue, owner, now),
  rateLimitUse: (queue) => rateLimits.rateLimitUse(ctx, queue),
  groupCounts: (queue, owner, limit) => groups.groupCounts(ctx, queue, owner, limit),
})

const maintenanceStore = (ctx: PgContext): MaintenanceStore => ({
  recoverExpiredLeases: (fence) => leases.recoverExpiredLeases(ctx, fence),
  sweepExpiredLeases: async () => ({
    recovered: await leases.sweepExpiredLeases(ctx),
    nextInMs: null,
  }),
  expireJobs: (fence) => expiry.expireJobs(ctx, fence),
  cleanup: (p) => control.cleanup(ctx, p),
})

const batchStore = (ctx: PgContext): BatchStore => ({
  getBatch: (id) => read.getBatch(ctx, id),
  listBatches: (params) => read.listBatches(ctx, params),
})

const artifactStore = (ctx: PgContext): ArtifactStore => ({
  blobs: postgresBlobs(ctx),
  async addArtifact(a) {
    await add.insertArtifact(ctx, a, ctx.clockNow())
    return (await read.getArtifact(ctx, a.id))!
  },
  listArtifacts: (jobId) => read.listArtifacts(ctx, jobId),
  getArtifact: (id) => read.getArtifact(ctx, id),
})

const notificationStore = (ctx: PgContext, listener: workers.Notifications): NotificationStore => ({
  notifyReady: (queues) => workers.notifyReady(ctx, queues),
  onReady: (l) => listener.onReady(l),
  onCancelled: (l) => listener.onCancelled(l),
})

const eventStore = (ctx: PgContext): EventStore => ({
  readEvents: (cursor, limit, filter) => read.readEvents(ctx, cursor, limit, filter),
  eventsTail: () => read.eventsTail(ctx),
  eventCursorAfter: (id) => read.eventCursorAfter(ctx, id),
})

const keyStore = (ctx: PgContext): KeyStore => ({
  createApiKey: (key) => keys.createApiKey(ctx, key),
  findApiKey: (hash) => keys.findApiKey(ctx, hash),
  listApiKeys: () => keys.listApiKeys(ctx),
  revokeApiKey: (id) => keys.revokeApiKey(ctx, id),
  markApiKeyUsed: (id) => keys.markApiKeyUsed(ctx, id),
})

const sessionStore = (ctx: PgContext): SessionStore => ({
  createSession: (s) => sessions.createSession(ctx, s),
  findSession: (hash) => sessions.findSession(ctx, hash),
  deleteSession: (hash) => sessions.deleteSession(ctx, hash),
  createViewerToken: (t) => sessions.createViewerToken(ctx, t),
  revokeViewerTokens: (jobId) => sessions.revokeViewerTokens(ctx, jobId),
  findViewerToken: (hash) => sessions.findViewerToken(ctx, hash),
})

const workerRegistryStore = (ctx: PgContext): WorkerRegistryStore => ({
  registerWorker: (w) => workers.registerWorker(ctx, w),
  heartbeatWorker: (id, load) => workers.heartbeatWorker(ctx, id, load),
  deregisterWorker: (id) => workers.deregisterWorker(ctx, id),
  getWorker: (id) => workers.getWorker(ctx, id),
  listWorkers: () => workers.listWorkers(ctx),
  markLostWorkers: (ms, fence) => workers.markLostWorkers(ctx, ms, fence),
  removeWorker: (id) => workers.removeWorker(ctx, id),
  pruneWorkers: (ms, fence) => workers.pruneWorkers(ctx, ms, fence),
})

const leadershipStore = (ctx: PgContext): LeadershipStore => ({
  acquireLeadership: (name, holder, ttlMs) => leadership.acquireLeadership(ctx, name, holder, ttlMs),
  releaseLeadership: (term) => leadership.releaseLeadership(ctx, term),
})

const scheduleStore = (ctx: PgContext): ScheduleStore => ({
  createSchedule: (s) => schedules.createSchedule(ctx, s),
  updateSchedule: (id, change) => schedules.updateSchedule(ctx, id, change),
  getSchedule: (id) => schedules.getSchedule(ctx, id),
  listSchedules: (filter) => schedules.listSchedules(ctx, filter),
  deleteSchedule: (id) => schedules.deleteSchedule(ctx, id),
  listScheduleRuns: (id, limit) => schedules.listScheduleRuns(ctx, id, limit),
  dueSchedules: (limit) => schedules.dueSchedules(ctx, limit),
  fireSchedule: (id, build, params) => schedules.fireSchedule(ctx, id, build, params),
})
