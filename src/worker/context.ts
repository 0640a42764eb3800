/** What a handler gets besides the job: progress, steps, logs and an AbortSignal. */

import type { ProgressInput } from '../core/options.js'
import type { ClaimedJob, UpstreamJob } from '../core/types.js'
import type { Docket, FileInput } from '../docket.js'
import type { Artifact } from '../storage/store.js'
import { JobSnoozedError } from './abort.js'

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
  /**
   * Runs the job again after `ms` without spending this attempt, and ends the
   * handler here: `return ctx.snooze(60_000)`. It gives the lease back at once
   * (LEASE_LOST if it is already gone); whatever the handler does after it is
   * not recorded.
   */
  snooze(ms: number): Promise<never>
  /**
   * The jobs this one depends on: id, type, status, what it waits for (`on`)
   * and the result of each completed one, e.g. the pages a summary job merges.
   */
  upstream<Result = unknown>(): Promise<UpstreamJob<Result>[]>
}

/** What the executor learns from the context: whether the handler snoozed its job. */
export interface SnoozeState {
  snoozed: boolean
}

export { type AbortReason, JobAbortedError, JobSnoozedError } from './abort.js'

export function createContext<P>(
  docket: Docket,
  job: ClaimedJob<P>,
  signal: AbortSignal,
  snooze: SnoozeState = { snoozed: false },
): JobContext<P> {
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
    upstream: <Result>() => docket.upstream(job.id) as Promise<UpstreamJob<Result>[]>,
    async snooze(ms: number): Promise<never> {
      await docket.workers.snooze(job, ms)
      snooze.snoozed = true
      throw new JobSnoozedError(ms)
    },
  }
}
