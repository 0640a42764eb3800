/**
 * The typed stream of what happens, readable from any process: it tails the
 * event log in commit order (see the drivers' readEvents), so every
 * subscriber sees every event once, in order, and can resume after the last
 * event id it saw.
 *
 * Each subscriber reads the log by itself, a page at a time, from its own
 * cursor, and hands the page's events to its listener one by one; when the
 * listener returns a promise, the next event (and the next read) waits for
 * it. That is the backpressure: a subscriber whose client reads slowly reads
 * the log slowly, and holds one page at most. A subscriber that has caught
 * up does not poll the log: one watcher per store and poll interval looks at
 * the end of the log and wakes the subscribers waiting there when it moves.
 */
import { type FeedEventKind, feedKind } from '../core/events.js'
import type { EventRecord, StoredEvent } from '../core/types.js'
import type { Store } from '../storage/store.js'

/** The kinds are listed, with what each means, in core/events.ts and docs/remote-workers.md. */
export type DocketEventKind = FeedEventKind

/** An event of the public feed: a row of the event log (core/types.ts), with the feed's kind. */
export type DocketEvent = EventRecord<DocketEventKind>

export function toDocketEvent(e: StoredEvent): DocketEvent {
  return { ...e, kind: feedKind(e.kind, e.status) }
}

export interface SubscribeOptions {
  /** Only events of this queue. */
  queue?: string
  /** Only events of this job (read by the index on a job's events). */
  jobId?: string
  /**
   * Replay events after this id (within retention) before going live; 0:
   * from the oldest kept. Without it the feed starts with the events
   * committed after it opened: none committed before, none after missed.
   */
  afterId?: number
  /** How often the end of the log is looked at for new events. Default 100 ms. */
  pollMs?: number
  /** Events read from the log at a time (a page also ends at 256 KiB of event data). Default 100. */
  pageSize?: number
}

export interface Subscription {
  close(): Promise<void>
}

/**
 * Called with each event, in order. A returned promise holds back the next
 * event, and the reading of the log, until it settles (a rejection is
 * ignored and the feed goes on).
 */
export type FeedListener = (event: DocketEvent) => void | Promise<void>

/**
 * Watches the end of one store's log, for every subscriber that has caught
 * up: one `eventsTail` per interval for all of them, however many, and only
 * while one is waiting.
 */
class TailWatch {
  readonly #waiting = new Set<() => void>()
  #timer: NodeJS.Timeout | null = null
  #tail: string | null | undefined

  constructor(
    private readonly store: Store,
    private readonly pollMs: number,
  ) {}

  /** Resolves once the log's end has moved (or after `maxMs`, whichever comes first). */
  next(maxMs: number): { done: Promise<void>; cancel: () => void } {
    let wake = () => {}
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => wake(), maxMs)
      wake = () => {
        clearTimeout(timer)
        this.#waiting.delete(wake)
        resolve()
      }
      this.#waiting.add(wake)
    })
    this.#start()
    return { done, cancel: wake }
  }

  /**
   * Looks at the end of the log every pollMs while anyone waits, and wakes them all when it moved
   * since the last look (or on the first look, when there was none). Every waiter read the log
   * after the last look before it began to wait, so whatever came after its read moves the end
   * past that look: it is woken. The last end seen is kept while nobody waits.
   */
  #start(): void {
    if (this.#timer !== null) return
    const tick = async () => {
      try {
        const tail = await this.store.eventsTail()
        // A PostgreSQL cursor carries a snapshot that changes every time: its position is what counts.
        const position = tail?.split('@')[0] ?? null
        const moved = position !== this.#tail
        this.#tail = position
        if (moved) for (const wake of [...this.#waiting]) wake()
      } catch {
        // The database is away: the subscribers' own reads will say so, and retry.
      }
      this.#timer = this.#waiting.size > 0 ? setTimeout(tick, this.pollMs) : null
    }
    this.#timer = setTimeout(tick, this.pollMs)
  }
}

const watches = new WeakMap<Store, Map<number, TailWatch>>()

function tailWatch(store: Store, pollMs: number): TailWatch {
  const byInterval = watches.get(store) ?? new Map<number, TailWatch>()
  watches.set(store, byInterval)
  const watch = byInterval.get(pollMs) ?? new TailWatch(store, pollMs)
  byInterval.set(pollMs, watch)
  return watch
}

/** The most a caught-up subscriber waits before it reads the log anyway (a watcher that missed a move). */
const MAX_IDLE_MS = 5_000
/** How long a subscriber whose read failed waits before it reads again. */
const RETRY_MS = 500

/** A wait of `ms` that `cancel` ends early. */
function pause(ms: number): { done: Promise<void>; cancel: () => void } {
  let cancel = () => {}
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    cancel = () => {
      clearTimeout(timer)
      resolve()
    }
  })
  return { done, cancel }
}

export async function subscribe(
  store: Store,
  listener: FeedListener,
  options: SubscribeOptions = {},
): Promise<Subscription> {
  // Without afterId: the end of the log now. With it: just after that event, or, when it was cleaned
  // up (or is not known), from the oldest event kept.
  let cursor =
    options.afterId === undefined
      ? await store.eventsTail()
      : options.afterId === 0
        ? null
        : await store.eventCursorAfter(options.afterId)
  const pollMs = options.pollMs ?? 100
  const pageSize = options.pageSize ?? 100
  const filter = { queue: options.queue, jobId: options.jobId }
  const watch = tailWatch(store, pollMs)
  let closed = false
  let idle: { done: Promise<void>; cancel: () => void } | null = null

  const deliver = async (e: StoredEvent) => {
    // Both filters hold, whichever the store applied.
    if (
      (filter.queue !== undefined && e.queue !== filter.queue) ||
      (filter.jobId !== undefined && e.jobId !== filter.jobId)
    )
      return
    try {
      await listener(toDocketEvent(e))
    } catch {
      // The listener's own failure is its business; the feed goes on.
    }
  }

  const run = async () => {
    while (!closed) {
      let more = false
      let failed = false
      try {
        const page = await store.readEvents(cursor, pageSize, filter)
        cursor = page.cursor
        more = page.more
        // Taken off the page as they go, so a feed waiting on its client holds only what it has not sent.
        const events = page.events
        for (let e = events.shift(); e !== undefined; e = events.shift()) {
          if (closed) return
          await deliver(e)
        }
      } catch {
        // A failed read (the database restarting) is tried again shortly.
        failed = true
      }
      if (closed) return
      if (!more) {
        idle = failed ? pause(RETRY_MS) : watch.next(MAX_IDLE_MS)
        await idle.done
        idle = null
      }
    }
  }
  const running = run()
  return {
    async close() {
      closed = true
      idle?.cancel()
      await running
    },
  }
}
