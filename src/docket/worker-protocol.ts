/**
 * The worker protocol: what a worker (the library's `Worker`, a job's
 * context, or a remote worker through the HTTP routes) does with the jobs it
 * holds and with its own registration. Producers and operators use `Docket`;
 * workers use `docket.workers`. Every argument is validated here, and a lease
 * that is gone is LEASE_LOST saying why (core/leases.ts).
 */
import type { ArtifactRouter } from '../artifacts/open.js'
import { storeFile } from '../artifacts/storage.js'
import { checkBound, leaseMs as leaseLength, workerId } from '../core/bounds.js'
import { assertLeaseHeld, DocketError, invalidArgument, notFound } from '../core/errors.js'
import {
  type ClaimInput,
  claimInput,
  failOptions,
  type ProgressInput,
  parse,
  progressInput,
  stepDetails,
  workerRecordInput,
} from '../core/options.js'
import { assertJsonValue } from '../core/resolve.js'
import { checkDelay } from '../core/snooze.js'
import type { ClaimedJob, Job } from '../core/types.js'
import type {
  Artifact,
  ArtifactRecord,
  LeaderTerm,
  LeaseOutcome,
  LeaseRef,
  Store,
  WorkerInfo,
  WorkerRecord,
} from '../storage/store.js'
import { traceClaim } from '../tracing/spans.js'
import { checkQueueName, leaseRef, normaliseError } from './arguments.js'
import {
  type FailureInput,
  type FileInput,
  type Leased,
  RetryAfterError,
  UnrecoverableError,
} from './types.js'

export interface WorkerProtocolOptions {
  maxPayloadBytes: number
  maxArtifactBytes: number
  defaultLeaseMs: number
  artifacts: ArtifactRouter
  /** Wakes idle workers of these queues in every process ('*': all of them). */
  wake: (queues: string[]) => Promise<void>
}

export type StepPhase = 'started' | 'completed' | 'failed'
const STEP_PHASES: readonly StepPhase[] = ['started', 'completed', 'failed']

export class WorkerProtocol {
  readonly #store: () => Store
  readonly #o: WorkerProtocolOptions

  /** `store` is a getter so that a closed Docket refuses (CLOSED) here too. */
  constructor(store: () => Store, options: WorkerProtocolOptions) {
    this.#store = store
    this.#o = options
  }

  // The registry

  /** Registers (or re-registers) a worker: its queues, capabilities and concurrency. */
  async register(worker: WorkerRecord): Promise<void> {
    await this.#store().registerWorker(parse(workerRecordInput, worker, 'worker'))
  }

  /** Records a worker's heartbeat and load; false when it is not registered and up (register again). */
  async beat(id: string, load: number): Promise<boolean> {
    if (!Number.isInteger(load) || load < 0) {
      throw invalidArgument('load must be a non-negative integer', [
        { path: 'load', message: 'expected an integer >= 0' },
      ])
    }
    return this.#store().heartbeatWorker(checkWorkerId(id), load)
  }

  /** Marks a worker stopped; the jobs it still holds go back to their queues, attempts not counted. */
  async deregister(id: string): Promise<number> {
    const released = await this.#store().deregisterWorker(checkWorkerId(id))
    if (released > 0) await this.#o.wake(['*'])
    return released
  }

  /**
   * Forgets a stopped or lost worker (its row, not its history of events).
   * NOT_FOUND when there is none; INVALID_STATE while it is up: deregister it first.
   */
  async remove(id: string): Promise<void> {
    const outcome = await this.#store().removeWorker(checkWorkerId(id))
    if (outcome === null) throw notFound('worker', id)
    if (outcome === 'up')
      throw new DocketError(
        'INVALID_STATE',
        `worker ${id} is up: only a stopped or lost worker can be removed`,
        {
          workerId: id,
          status: 'up',
          action: 'remove',
          allowedFrom: ['stopped', 'lost'],
        },
      )
  }

  /** Forgets stopped and lost workers silent for more than `olderThanMs` (the maintenance leader's retention). */
  async prune(olderThanMs: number, fence?: LeaderTerm): Promise<string[]> {
    return this.#store().pruneWorkers(olderThanMs, fence)
  }

  async get(id: string): Promise<WorkerInfo | null> {
    return this.#store().getWorker(checkWorkerId(id))
  }

  /**
   * Marks workers silent for `silentForMs` lost (the maintenance leader's
   * pass, under its term). Returns their ids.
   */
  async markLost(silentForMs: number, fence?: LeaderTerm): Promise<string[]> {
    return this.#store().markLostWorkers(silentForMs, fence)
  }

  /** Calls `listener` with a queue name (or '*') whenever jobs may have become ready, in any process. */
  async onReady(listener: (queue: string) => void): Promise<() => Promise<void>> {
    return this.#store().onReady(listener)
  }

  /** Calls `listener` when a leased job is cancelled (or with '*': check every lease), in any process. */
  async onCancelled(listener: (lease: LeaseRef | '*') => void): Promise<() => Promise<void>> {
    return this.#store().onCancelled(listener)
  }

  // Leases

  /** Leases up to `limit` ready jobs to a worker, in each queue's order, within each queue's concurrency limit. */
  async claim(input: ClaimInput): Promise<ClaimedJob[]> {
    const c = parse(claimInput, input, 'claim')
    const queues = [...new Set(c.queues)]
    // Traced (tracing/spans.ts): a claim that took jobs is a span linked to each job's add.
    return traceClaim(c.workerId, queues, () =>
      this.#store().claimJobs({
        workerId: c.workerId,
        queues,
        capabilities: c.capabilities ?? [],
        limit: c.limit ?? 1,
        leaseMs: c.leaseMs ?? this.#o.defaultLeaseMs,
      }),
    )
  }

  /** For a worker that could start nothing: ms until a rate-limited queue of these opens a slot; null when none is held back. */
  async rateLimitWaitMs(queues: string[]): Promise<number | null> {
    return this.#store().rateLimitWaitMs([...new Set(queues.map((q) => checkQueueName(q, 'queues')))])
  }

  /** Extends leases; each outcome says whether the lease is still held. */
  async heartbeat(jobs: Leased | Leased[], leaseMs = this.#o.defaultLeaseMs): Promise<LeaseOutcome[]> {
    const refs = [jobs].flat().map(leaseRef)
    return this.#store().extendLeases(refs, checkBound(leaseLength, leaseMs, 'leaseMs'))
  }

  /** Whether each lease is still held, and if not why (see core/leases.ts). Changes nothing. */
  async checkLeases(jobs: Leased | Leased[]): Promise<LeaseOutcome[]> {
    return this.#store().checkLeases([jobs].flat().map(leaseRef))
  }

  /** Hands leased jobs back without counting the attempt (the job keeps its place in its queue). */
  async release(jobs: Leased | Leased[]): Promise<LeaseOutcome[]> {
    const outcomes = await this.#store().releaseJobs([jobs].flat().map(leaseRef))
    if (outcomes.some((o) => o.ok)) await this.#o.wake(['*'])
    return outcomes
  }

  // Reports

  async progress(job: Leased, input: ProgressInput): Promise<void> {
    await this.#store().reportProgress({ ...leaseRef(job), ...parse(progressInput, input, 'progress') })
  }

  async log(job: Leased, message: string, data?: unknown): Promise<void> {
    if (typeof message !== 'string')
      throw invalidArgument('message must be a string', [{ path: 'message', message: 'expected a string' }])
    if (data !== undefined) assertJsonValue(data, 'data', this.#o.maxPayloadBytes)
    await this.#store().appendEvent({ ...leaseRef(job), kind: 'log', message, data: data ?? null })
  }

  /** Records a step boundary: `started`, `completed` (with its duration) or `failed`. */
  async step(
    job: Leased,
    step: string,
    phase: StepPhase,
    details: { durationMs?: number; message?: string } = {},
  ): Promise<void> {
    if (typeof step !== 'string' || step.length === 0 || step.length > 200) {
      throw invalidArgument('step must be a name of 1-200 characters', [
        { path: 'step', message: 'expected 1-200 characters' },
      ])
    }
    if (!STEP_PHASES.includes(phase)) {
      throw invalidArgument('phase must be started, completed or failed', [
        { path: 'phase', message: 'expected started | completed | failed' },
      ])
    }
    const d = parse(stepDetails, details, 'step details')
    await this.#store().appendEvent({
      ...leaseRef(job),
      kind: `step.${phase}`,
      step,
      message: d.message ?? null,
      data: d.durationMs === undefined ? null : { durationMs: d.durationMs },
    })
  }

  // Outcomes

  /** Completes a leased job with a JSON result. LEASE_LOST if the lease is no longer held. */
  async complete(job: Leased, result?: unknown): Promise<void> {
    const [outcome] = await this.completeMany([{ job, result }])
    assertLeaseHeld(outcome!)
  }

  /**
   * Refuses (INVALID_ARGUMENT) a result that complete() would refuse: not
   * JSON, or over the payload limit. The worker checks each result with it
   * before handing it to the completer, so one bad result fails its own job
   * instead of a whole batch of completions.
   */
  assertResult(result: unknown, path = 'result'): void {
    assertJsonValue(result === undefined ? null : result, path, this.#o.maxPayloadBytes)
  }

  /** Completes many leased jobs in one transaction; each outcome says whether its lease still held. */
  async completeMany(items: { job: Leased; result?: unknown }[]): Promise<LeaseOutcome[]> {
    if (!Array.isArray(items))
      throw invalidArgument('expected an array of { job, result }', [
        { path: '', message: 'expected an array' },
      ])
    const params = items.map((item, i) => {
      this.assertResult(item.result, items.length > 1 ? `results.${i}` : 'result')
      return { ...leaseRef(item.job), result: item.result === undefined ? null : item.result }
    })
    return this.#store().completeJobs(params)
  }

  /**
   * Fails the current attempt. The job is retried after its backoff (or after
   * `retryInMs`, or a RetryAfterError's) while it has attempts left, unless
   * `retryable` is false or the error is an UnrecoverableError. Returns the
   * job as it is after the failure.
   */
  async fail(
    job: Leased,
    error: Error | FailureInput | string,
    options: { retryable?: boolean; retryInMs?: number } = {},
  ): Promise<Job> {
    const o = parse(failOptions, options, 'fail options')
    const e = normaliseError(error)
    if (e.data !== undefined) assertJsonValue(e.data, 'error.data', this.#o.maxPayloadBytes)
    const retryable = o.retryable ?? !(error instanceof UnrecoverableError)
    const retryInMs = o.retryInMs ?? (error instanceof RetryAfterError ? error.retryInMs : undefined)
    return this.#store().failJob({ ...leaseRef(job), error: { ...e, retryable }, retryInMs })
  }

  /**
   * Gives a leased job back without spending its attempt, to run again after
   * `delayMs` (0: at once). LEASE_LOST if the lease is gone. Returns the job as it is now.
   */
  async snooze(job: Leased, delayMs: number): Promise<Job> {
    const ref = leaseRef(job)
    const snoozed = await this.#store().snoozeJob({ ...ref, delayMs: checkDelay(delayMs, 'delayMs') })
    if (snoozed.status === 'waiting') await this.#o.wake([snoozed.queue])
    return snoozed
  }

  // Output files

  /** Stores an output file of a leased job. LEASE_LOST if the lease is gone. */
  async saveOutput(job: Leased, file: FileInput): Promise<Artifact> {
    return (await this.saveOutputs(job, [file]))[0]!
  }

  /**
   * Stores output files of a leased job, as `files` yields them; their
   * records are written once every file is stored, so a failure midway
   * leaves none of them. LEASE_LOST if the lease is gone, before and after.
   */
  async saveOutputs(job: Leased, files: Iterable<FileInput> | AsyncIterable<FileInput>): Promise<Artifact[]> {
    const ref = leaseRef(job)
    await this.#assertLeaseHeld(ref)
    const stored: ArtifactRecord[] = []
    const saved: Artifact[] = []
    try {
      for await (const file of files)
        stored.push(await storeFile(this.#o.artifacts, ref.id, 'output', file, this.#o.maxArtifactBytes))
      await this.#assertLeaseHeld(ref)
      for (const record of stored) saved.push(await this.#store().addArtifact(record))
      return saved
    } catch (error) {
      const recorded = new Set(saved.map((a) => a.storageKey))
      const orphans = stored.filter((r) => !recorded.has(r.storageKey))
      await Promise.all(orphans.map((r) => this.#o.artifacts.remove(r.storageKey).catch(() => {})))
      throw error
    }
  }

  async #assertLeaseHeld(ref: LeaseRef): Promise<void> {
    assertLeaseHeld((await this.#store().checkLeases([ref]))[0]!)
  }
}

/** A worker's id as every entry point checks it (core/bounds.ts): the same rule as at registration. */
function checkWorkerId(id: unknown): string {
  return checkBound(workerId, id, 'id')
}
