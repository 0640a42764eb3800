/** What a handler gets besides the job: progress, steps, logs and an AbortSignal. */

import type { ProgressInput } from '../core/options.js'
import type { ClaimedJob } from '../core/types.js'
import type { Docket, FileInput } from '../docket.js'
import type { Artifact } from '../storage/store.js'

export interface JobContext<Payload = unknown> {
  job: ClaimedJob<Payload>
  /** 1 on the first attempt. */
  attempt: number
  /**
   * Fires when the job is cancelled, its lease is lost, its timeout passes or
   * the worker shuts down; `signal.reason` is a JobAbortedError saying which.
   */
  signal: AbortSignal
  /** Records progress on the job (kept on the row and appended to its events). */
  progress(percent: number, message?: string): Promise<void>
  /** Runs `fn` as a named step: records its start, then its completion or failure with the duration. */
  step<T>(name: string, fn: () => Promise<T> | T): Promise<T>
  log(message: string, data?: unknown): Promise<void>
  /** The job's files: its inputs, and the outputs saved so far. */
  artifacts(): Promise<Artifact[]>
  /** The bytes of one of the job's artifacts. */
  readArtifact(artifact: Artifact): Promise<Buffer>
  /** Stores an output file of this job (while the lease holds). */
  saveOutput(file: FileInput): Promise<Artifact>
}

export type AbortReason = 'cancelled' | 'lease-lost' | 'timeout' | 'shutdown'

export class JobAbortedError extends Error {
  override readonly name = 'JobAbortedError'
  constructor(
    readonly reason: AbortReason,
    message: string,
  ) {
    super(message)
  }
}

export function createContext<P>(docket: Docket, job: ClaimedJob<P>, signal: AbortSignal): JobContext<P> {
  let step: string | null = null
  return {
    job,
    attempt: job.attempts,
    signal,
    async progress(percent: number, message?: string) {
      const input: ProgressInput = { percent }
      if (message !== undefined) input.message = message
      if (step !== null) input.step = step
      await docket.workers.progress(job, input)
    },
    async step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
      const started = performance.now()
      await docket.workers.step(job, name, 'started')
      const outer = step
      step = name
      try {
        const result = await fn()
        await docket.workers.step(job, name, 'completed', {
          durationMs: Math.round(performance.now() - started),
        })
        return result
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        await docket.workers
          .step(job, name, 'failed', { durationMs: Math.round(performance.now() - started), message })
          .catch(() => {})
        throw error
      } finally {
        step = outer
      }
    },
    async log(message: string, data?: unknown) {
      await docket.workers.log(job, message, data)
    },
    artifacts: () => docket.listArtifacts(job.id),
    async readArtifact(artifact: Artifact) {
      if (artifact.jobId !== job.id) throw new Error(`artifact ${artifact.id} belongs to another job`)
      const { stream } = await docket.openArtifact(artifact.id)
      const chunks: Buffer[] = []
      for await (const chunk of stream) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks)
    },
    saveOutput: (file: FileInput) => docket.workers.saveOutput(job, file),
  }
}
