/** What the front door's modules by noun (queues, jobs, batches, files, schedules) share. */
import type { ArtifactRouter } from '../artifacts/open.js'
import type { Clock } from '../core/clock.js'
import type { Store } from '../storage/store.js'

export interface DocketContext {
  /** The store, refusing (CLOSED) once the Docket is closed. */
  store(): Store
  clock: Clock
  maxPayloadBytes: number
  maxArtifactBytes: number
  /** Where artifact bytes are kept (artifacts/open.ts). */
  artifacts: ArtifactRouter
  /** Wakes idle workers of these queues in every process; a failure here only delays pickup until the next poll. */
  wake(queues: string[]): Promise<void>
}
