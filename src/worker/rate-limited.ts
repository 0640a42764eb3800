/**
 * Which of a worker's queues have a rate limit. The producer claims their
 * jobs only for free slots, never into the local queue (producer.ts): a rate
 * limit counts a job's start when its claim records it, so a job that waited
 * in the local queue would start later than its recorded start, beside the
 * starts of a later window, and the handlers could start more often than the
 * limit says.
 *
 * Read from the queues (one query) and kept for REFRESH_MS: a rate limit set
 * on a queue while a worker runs reaches that worker's prefetch within that
 * time (docs/workers.md, "Rate limits").
 */
export const REFRESH_MS = 5_000

export class RateLimitedQueues {
  readonly #read: () => Promise<ReadonlySet<string>>
  #known: ReadonlySet<string> = new Set()
  #readAt = Number.NEGATIVE_INFINITY
  #reading: Promise<ReadonlySet<string>> | null = null

  /** `read`: the names of the worker's queues that have a rate limit now. */
  constructor(read: () => Promise<ReadonlySet<string>>) {
    this.#read = read
  }

  /** The rate-limited queues, as read at most REFRESH_MS ago. */
  get(): Promise<ReadonlySet<string>> {
    if (performance.now() - this.#readAt < REFRESH_MS) return Promise.resolve(this.#known)
    this.#reading ??= this.#read()
      .then((names) => {
        this.#known = names
        this.#readAt = performance.now()
        return names
      })
      .finally(() => {
        this.#reading = null
      })
    return this.#reading
  }
}
