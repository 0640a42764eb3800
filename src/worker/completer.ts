/**
 * The completer writes the results of finished jobs. The executor hands it a
 * job and its (JSON) result and moves on; the job's slot is free at once.
 *
 * - BatchCompleter, the worker's: completions that finish close together are
 *   written in one statement, and a write that fails because the database is
 *   unreachable is tried again while the leases hold.
 * - InlineCompleter, for tests: writes each completion on its own, at once,
 *   so a test can reason about one write at a time.
 */
import type { LeaseOutcome } from '../core/leases.js'
import type { ClaimedJob } from '../core/types.js'
import type { Docket } from '../docket.js'
import { writeWhileLeased } from './lease-writes.js'

export interface Completer {
  /** Writes the job's completion; resolves once it is written, refused or given up on. */
  complete(job: ClaimedJob, result: unknown): Promise<void>
  /** Completions handed over and not written yet. */
  readonly unwritten: number
  /** Resolves when every completion handed over so far is written. */
  flushed(): Promise<void>
}

export interface CompleterDeps {
  docket: Docket
  /** Called after each write: slots held by unwritten completions are free again. */
  onWritten: () => void
  /** Called for each completion written (the worker's `completed` event). */
  onCompleted?: (job: ClaimedJob, result: unknown) => void
  onError: (error: unknown, job?: ClaimedJob) => void
}

interface Pending {
  job: ClaimedJob
  result: unknown
  resolve: () => void
}

/** Most completions written in one statement. */
const BATCH_LIMIT = 500

export class BatchCompleter implements Completer {
  readonly #deps: CompleterDeps
  #queue: Pending[] = []
  #flushing: Promise<void> | null = null

  constructor(deps: CompleterDeps) {
    this.#deps = deps
  }

  get unwritten(): number {
    return this.#queue.length
  }

  complete(job: ClaimedJob, result: unknown): Promise<void> {
    return new Promise((resolve) => {
      this.#queue.push({ job, result: result === undefined ? null : result, resolve })
      this.#flushing ??= this.#flush()
    })
  }

  async flushed(): Promise<void> {
    while (this.#flushing || this.#queue.length > 0) {
      this.#flushing ??= this.#flush()
      await this.#flushing
    }
  }

  async #flush(): Promise<void> {
    // Let the completions of handlers that finish in this same turn join the batch.
    await new Promise((r) => setImmediate(r))
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, BATCH_LIMIT)
      await writeCompletions(this.#deps, batch)
      for (const c of batch) c.resolve()
      this.#deps.onWritten()
    }
    this.#flushing = null
  }
}

export class InlineCompleter implements Completer {
  readonly #deps: CompleterDeps
  #writing = new Set<Promise<void>>()

  constructor(deps: CompleterDeps) {
    this.#deps = deps
  }

  get unwritten(): number {
    return this.#writing.size
  }

  complete(job: ClaimedJob, result: unknown): Promise<void> {
    const write = writeCompletions(this.#deps, [{ job, result: result === undefined ? null : result }])
      .then(() => this.#deps.onWritten())
      .finally(() => this.#writing.delete(write))
    this.#writing.add(write)
    return write
  }

  async flushed(): Promise<void> {
    while (this.#writing.size > 0) await Promise.all(this.#writing)
  }
}

/**
 * Writes a batch of completions. If the database is unreachable (a restart,
 * a network blip) it tries again while the leases still hold, so a job that
 * finished is not run a second time just because its completion was late.
 */
async function writeCompletions(
  { docket, onCompleted, onError }: CompleterDeps,
  batch: { job: ClaimedJob; result: unknown }[],
): Promise<void> {
  const deadline = Math.min(...batch.map((c) => c.job.lease.expiresAt.getTime()))
  let outcomes: LeaseOutcome[]
  try {
    outcomes = await writeWhileLeased(docket, deadline, () =>
      docket.workers.completeMany(batch.map((c) => ({ job: c.job, result: c.result }))),
    )
  } catch (error) {
    onError(error)
    return
  }
  const byId = new Map(batch.map((c) => [c.job.id, c]))
  for (const o of outcomes) {
    const c = byId.get(o.id)
    if (!o.ok) onError(new Error(`completion of ${o.id} refused: ${o.code}`), c?.job)
    else if (c) onCompleted?.(c.job, c.result)
  }
}
