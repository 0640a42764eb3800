/**
 * A wake-up that cannot be lost. Sleepers wait for `wake()` or a timeout;
 * a wake-up that comes while nobody sleeps is not dropped but counted, so
 * a sleeper that took a mark before its work (a claim) returns at once if
 * anything woke it meanwhile. Any number of sleepers may wait on one Wake.
 *
 *   const mark = wake.mark()
 *   const jobs = await claim()          // wake() may be called during this
 *   if (jobs.length === 0) await wake.sleep(pollMs, mark)
 *
 * Used by the worker's producer and by the remote workers' long-poll.
 */
export type WakeOutcome = 'woken' | 'timeout'

export class Wake {
  /** Counts wake-ups; a mark is its value at the time the mark was taken. */
  #generation = 0
  readonly #sleepers = new Set<(outcome: WakeOutcome) => void>()

  /** A point to sleep from: `sleep(ms, mark)` returns at once if `wake()` was called after it. */
  mark(): number {
    return this.#generation
  }

  /** Wakes every sleeper now, and any that sleeps from a mark taken before this call. */
  wake(): void {
    this.#generation++
    if (this.#sleepers.size === 0) return // the common case: called while the sleeper is busy
    const sleepers = [...this.#sleepers]
    this.#sleepers.clear()
    for (const wakeUp of sleepers) wakeUp('woken')
  }

  /** Resolves on the next `wake()` (or at once if one came after `since`), or after `ms`. */
  sleep(ms: number, since: number = this.#generation): Promise<WakeOutcome> {
    if (this.#generation !== since) return Promise.resolve('woken')
    return new Promise((resolve) => {
      const settle = (outcome: WakeOutcome) => {
        clearTimeout(timer)
        // Whichever comes first, the sleeper leaves the set: a later wake() finds no stale sleeper.
        this.#sleepers.delete(settle)
        resolve(outcome)
      }
      const timer = setTimeout(() => settle('timeout'), ms)
      this.#sleepers.add(settle)
    })
  }
}
