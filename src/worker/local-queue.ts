/**
 * The local queue: jobs a worker claimed ahead of its free slots (the
 * `prefetch` option), held in claim order until a slot frees. A prefetched
 * job is leased like a running one, so the lease keeper extends it and a
 * cancel or a lost lease drops it here before it ever starts; on close the
 * worker hands every job still here back at once. If the worker dies, their
 * leases expire like those of its running jobs: the re-pickup bound in
 * docs/reliability.md is the same.
 *
 * Why prefetch at all: one claim of many jobs costs the database little more
 * than a claim of one, and a slot that frees takes its next job from memory
 * instead of waiting for a round trip.
 */
import type { ClaimedJob } from '../core/types.js'

export class LocalQueue {
  readonly #jobs = new Map<string, ClaimedJob>()

  get size(): number {
    return this.#jobs.size
  }

  push(job: ClaimedJob): void {
    this.#jobs.set(job.id, job)
  }

  /** The job claimed first, taken out; undefined when empty. */
  take(): ClaimedJob | undefined {
    const first = this.#jobs.values().next()
    if (first.done) return undefined
    this.#jobs.delete(first.value.id)
    return first.value
  }

  get(id: string): ClaimedJob | undefined {
    return this.#jobs.get(id)
  }

  /** Drops a job whose lease is gone (cancelled, lost): it must not start. */
  drop(id: string): void {
    this.#jobs.delete(id)
  }

  jobs(): ClaimedJob[] {
    return [...this.#jobs.values()]
  }

  /** Every job, taken out: to hand back on close. */
  drain(): ClaimedJob[] {
    const all = this.jobs()
    this.#jobs.clear()
    return all
  }
}
