/**
 * The producer claims jobs for the worker's free slots, and sleeps when it
 * has nothing to do. It asks for as many jobs as there are free slots, plus
 * room in the local queue when the worker prefetches (local-queue.ts; never
 * from a rate-limited queue, rate-limited.ts), serves its queues in turn, and
 * hands each claimed job to the worker.
 *
 * Modes, and the transitions between them (each asserted by #enter):
 *
 *   STARTING  --start()----------------------------------------> CLAIMING
 *   CLAIMING  --a full batch came back and slots are still free--> CLAIMING
 *   CLAIMING  --fewer jobs than asked, no free slot, or an error--> SLEEPING
 *   SLEEPING  --woken (a job is ready, a slot freed) or poll passed--> CLAIMING
 *   STARTING | CLAIMING | SLEEPING  --stop()-------------------> STOPPED
 *
 * A wake-up is never lost: the producer takes a mark on its Wake before each
 * claim, and a wake-up that arrives during the claim makes the sleep after
 * it return at once. A claim in flight when stop() is called finishes, and
 * its jobs still run; stop() resolves once the producer is STOPPED.
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { ClaimedJob } from '../core/types.js'
import { Wake } from './wake.js'

export type ProducerMode = 'STARTING' | 'CLAIMING' | 'SLEEPING' | 'STOPPED'

const NONE: ReadonlySet<string> = new Set()

/** For each mode, the modes it may be entered from. */
const ENTERED_FROM: Record<ProducerMode, readonly ProducerMode[]> = {
  STARTING: [],
  CLAIMING: ['STARTING', 'CLAIMING', 'SLEEPING'],
  SLEEPING: ['CLAIMING'],
  STOPPED: ['STARTING', 'CLAIMING', 'SLEEPING'],
}

export interface ProducerDeps {
  queues: string[]
  concurrency: number
  /** Jobs held claimed ahead of the slots (WorkerOptions.prefetch); 0: none. */
  prefetch: number
  /** Most jobs per claim; null: as many as there are free slots. */
  batchSize: number | null
  pollMs: number
  claim: (queues: string[], limit: number) => Promise<ClaimedJob[]>
  /**
   * After a claim that came back short: milliseconds until a rate-limited
   * queue among these opens a slot (null: none is held back), so the
   * producer wakes then instead of waiting out pollMs.
   */
  nextSlotMs?: (queues: string[]) => Promise<number | null>
  /**
   * The queues among these whose rate limit counts starts (rate-limited.ts): with prefetch, their
   * jobs are claimed only for free slots, so that none waits in the local queue.
   */
  rateLimited?: () => Promise<ReadonlySet<string>>
  /** Starts running a claimed job, or holds it in the local queue when every slot is taken. */
  run: (job: ClaimedJob) => void
  /** Jobs running now, and those held in the local queue. */
  running: () => number
  /** Slots free now (the local queue is empty whenever one is: a freed slot takes its next job). */
  freeSlots?: () => number
  /** Finished jobs whose completion is not written yet. */
  unwritten: () => number
  onError: (error: unknown) => void
}

/** What a producer did: a claim came back (`claimed`), or it is going to sleep (`sleeping`). */
export interface ProducerSignal {
  queues: readonly string[]
  /** Jobs asked for and got by the last claim (0 and 0 when there was no room to claim). */
  asked: number
  claimed: number
}

/**
 * Test signals, as River's producer has: every producer in the process
 * announces `claimed` after each claim and `sleeping` before each sleep, so
 * that a test can wait for "the worker looked and found nothing" instead of
 * sleeping for a guessed time. Emitted only while someone listens.
 */
export const producerSignals = new EventEmitter<{ claimed: [ProducerSignal]; sleeping: [ProducerSignal] }>()

export class Producer {
  readonly #deps: ProducerDeps
  readonly #wake = new Wake()
  #mode: ProducerMode = 'STARTING'
  #stopRequested = false
  #loop: Promise<void> | null = null
  #rotation = 0

  constructor(deps: ProducerDeps) {
    this.#deps = deps
  }

  get mode(): ProducerMode {
    return this.#mode
  }

  start(): void {
    assert.equal(this.#mode, 'STARTING', 'the producer was already started')
    this.#loop = this.#produce()
  }

  /** Claims again now: a job may be ready in one of the queues, or a slot is free. */
  wake(): void {
    this.#wake.wake()
  }

  /** Stops claiming. Resolves once a claim in flight has handed over its jobs. */
  async stop(): Promise<void> {
    this.#stopRequested = true
    this.#wake.wake()
    if (this.#loop) await this.#loop
    else if (this.#mode !== 'STOPPED') this.#enter('STOPPED')
  }

  async #produce(): Promise<void> {
    while (!this.#stopRequested) {
      this.#enter('CLAIMING')
      const mark = this.#wake.mark()
      const { asked, claimed } = await this.#claimForFreeSlots()
      this.#signal('claimed', asked, claimed)
      if (this.#stopRequested) break
      // A full batch means more may be waiting: claim again at once if there is room.
      if (claimed > 0 && claimed === asked && this.#room() >= this.#leastClaim()) continue
      const sleepMs = claimed < asked ? await this.#untilNextSlot() : this.#deps.pollMs
      this.#enter('SLEEPING')
      this.#signal('sleeping', asked, claimed)
      await this.#wake.sleep(sleepMs, mark)
    }
    this.#enter('STOPPED')
  }

  async #claimForFreeSlots(): Promise<{ asked: number; claimed: number }> {
    const room = this.#room()
    if (room < this.#leastClaim()) return { asked: 0, claimed: 0 }
    const queues = this.#rotatedQueues()
    let asked = 0
    let claimed = 0
    try {
      const limited =
        this.#deps.prefetch > 0 && this.#deps.rateLimited ? await this.#deps.rateLimited() : NONE
      if (!queues.some((q) => limited.has(q))) return await this.#claim(queues, room)
      // A rate limit counts a start when the claim records it: a rate-limited queue's jobs are
      // claimed for free slots only, and the local queue is filled from the other queues.
      const free = Math.min(room, this.#deps.freeSlots?.() ?? room)
      if (free > 0) ({ asked, claimed } = await this.#claim(queues, free))
      const others = queues.filter((q) => !limited.has(q))
      const rest = this.#room()
      if (others.length === 0 || rest < this.#leastClaim()) return { asked, claimed }
      const more = await this.#claim(others, rest)
      return { asked: asked + more.asked, claimed: claimed + more.claimed }
    } catch (error) {
      if (!this.#stopRequested) this.#deps.onError(error)
      // Counted as a short claim: the producer sleeps rather than trying again at once.
      return { asked: claimed + 1, claimed }
    }
  }

  /** One claim of up to `room` jobs (at most batchSize) of these queues, each handed to the worker. */
  async #claim(queues: string[], room: number): Promise<{ asked: number; claimed: number }> {
    const asked = Math.min(room, this.#deps.batchSize ?? room)
    const jobs = await this.#deps.claim(queues, asked)
    for (const job of jobs) this.#deps.run(job)
    return { asked, claimed: jobs.length }
  }

  /** Jobs this worker could take now: free slots, and room in the local queue. */
  #room(): number {
    const { concurrency, prefetch } = this.#deps
    // Finished jobs whose completion is not written yet hold their slot only
    // when they pile up (a slow database); otherwise the next claim overlaps the write.
    const unwritten = Math.max(0, this.#deps.unwritten() - concurrency)
    return concurrency + prefetch - this.#deps.running() - unwritten
  }

  /**
   * The smallest claim worth making. Without prefetch, one free slot. With
   * it, the local queue is refilled once half of it has been used, in one
   * claim, rather than one job per slot that frees; an empty local queue
   * always leaves at least this much room, so a free slot never waits.
   */
  #leastClaim(): number {
    return Math.max(1, Math.ceil(this.#deps.prefetch / 2))
  }

  /** How long to sleep after a short claim: until a rate limit's next slot, or pollMs, whichever comes first. */
  async #untilNextSlot(): Promise<number> {
    const { pollMs, nextSlotMs, queues } = this.#deps
    if (!nextSlotMs || this.#stopRequested) return pollMs
    try {
      const ms = await nextSlotMs(queues)
      return ms === null ? pollMs : Math.min(pollMs, Math.max(1, ms))
    } catch (error) {
      this.#deps.onError(error)
      return pollMs
    }
  }

  /** Serve queues in turn, so that the first one listed cannot starve the others. */
  #rotatedQueues(): string[] {
    const q = this.#deps.queues
    const k = this.#rotation++ % q.length
    return [...q.slice(k), ...q.slice(0, k)]
  }

  #signal(name: 'claimed' | 'sleeping', asked: number, claimed: number): void {
    if (producerSignals.listenerCount(name) > 0)
      producerSignals.emit(name, { queues: this.#deps.queues, asked, claimed })
  }

  #enter(mode: ProducerMode): void {
    if (!ENTERED_FROM[mode].includes(this.#mode))
      assert.fail(`producer: cannot enter ${mode} from ${this.#mode}`)
    this.#mode = mode
  }
}
