/**
 * The typed stream of what happens, readable from any process: it tails the
 * event log in commit order (see the drivers' readEvents), so every
 * subscriber sees every event once, in order, and can resume after the last
 * event id it saw.
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
  /** Only events of this job. */
  jobId?: string
  /** Replay events after this id (within retention) before going live; default: only new events. */
  afterId?: number
  /** How often the log is read. Default 100 ms. */
  pollMs?: number
}

export interface Subscription {
  close(): Promise<void>
}

export async function subscribe(
  store: Store,
  listener: (event: DocketEvent) => void,
  options: SubscribeOptions = {},
): Promise<Subscription> {
  let cursor =
    options.afterId === undefined ? await store.eventsTail() : await store.eventCursorAfter(options.afterId)
  if (options.afterId !== undefined && cursor === null && options.afterId > 0) {
    // The event was cleaned up: replay from the oldest one kept.
    cursor = null
  }
  const pollMs = options.pollMs ?? 100
  let closed = false
  let timer: NodeJS.Timeout | null = null
  let reading: Promise<void> | null = null

  const matches = (e: StoredEvent) =>
    (options.queue === undefined || e.queue === options.queue) &&
    (options.jobId === undefined || e.jobId === options.jobId)

  const read = async () => {
    for (;;) {
      const page = await store.readEvents(cursor, 500)
      cursor = page.cursor
      for (const e of page.events) if (!closed && matches(e)) listener(toDocketEvent(e))
      if (page.events.length < 500 || closed) return
    }
  }
  const tick = () => {
    if (closed) return
    reading = read()
      .catch(() => {})
      .finally(() => {
        reading = null
        if (!closed) timer = setTimeout(tick, pollMs)
      })
  }
  tick()
  return {
    async close() {
      closed = true
      if (timer) clearTimeout(timer)
      await reading
    },
  }
}
