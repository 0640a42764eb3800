/** The modules by noun behind one Docket, wired to its store, clock and limits (the Docket class delegates to them). */
import type { ArtifactRouter } from '../artifacts/open.js'
import { DEFAULT_MAX_ARTIFACT_BYTES } from '../artifacts/storage.js'
import { systemClock } from '../core/clock.js'
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../core/resolve.js'
import type { Store } from '../storage/store.js'
import { Access } from './access.js'
import { Batches } from './batches.js'
import type { DocketContext } from './context.js'
import { DashboardReads } from './dashboard.js'
import { Files } from './files.js'
import { registerInternals } from './internals.js'
import { Jobs } from './jobs.js'
import { MaintenanceTasks } from './maintenance.js'
import { Queues } from './queues.js'
import { JobWaiters } from './results.js'
import type { ScheduleContext } from './schedules.js'
import { DEFAULT_LEASE_MS, type DocketOptions } from './types.js'
import { WorkerProtocol } from './worker-protocol.js'

export interface DocketParts {
  ctx: DocketContext
  queues: Queues
  jobs: Jobs
  batches: Batches
  files: Files
  maintenance: MaintenanceTasks
  workers: WorkerProtocol
  /** Callers awaiting jobs' ends (waitForJob), on one shared tail of the event log. */
  waiters: JobWaiters
  /** What the schedule functions (docket/schedules.ts) take, made per call so a closed Docket refuses. */
  schedules(): ScheduleContext
}

/** `open`: the store, refusing (CLOSED) once the Docket is closed; `store` itself is only for waking workers. */
export function docketParts(
  docket: object,
  store: Store,
  open: () => Store,
  options: DocketOptions,
  artifacts: ArtifactRouter,
): DocketParts {
  const ctx: DocketContext = {
    store: open,
    clock: options.clock ?? systemClock,
    maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    maxArtifactBytes: options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES,
    artifacts,
    // Wakes idle workers of these queues in every process; a failure only delays pickup until the next poll.
    wake: async (queues) => {
      if (queues.length > 0) await store.notifyReady([...new Set(queues)]).catch(() => {})
    },
  }
  const schedules = () => ({ store: open(), clock: ctx.clock, maxPayloadBytes: ctx.maxPayloadBytes })
  const queues = new Queues(ctx)
  const jobs = new Jobs(ctx)
  const maintenance = new MaintenanceTasks(ctx, schedules)
  const workers = new WorkerProtocol(open, {
    maxPayloadBytes: ctx.maxPayloadBytes,
    maxArtifactBytes: ctx.maxArtifactBytes,
    defaultLeaseMs: options.defaultLeaseMs ?? DEFAULT_LEASE_MS,
    artifacts,
    wake: ctx.wake,
  })
  registerInternals(docket, {
    access: new Access(open),
    maintenance,
    dashboard: new DashboardReads(ctx, queues),
    store,
  })
  const batches = new Batches(ctx, jobs)
  const files = new Files(ctx, jobs)
  const waiters = new JobWaiters(jobs)
  return { ctx, queues, jobs, batches, files, maintenance, workers, waiters, schedules }
}
