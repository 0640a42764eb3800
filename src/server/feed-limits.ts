/**
 * What one server lets its live feeds (SSE and WebSocket on /events) hold:
 * how many may be open per key and in all (past either, TOO_MANY_FEEDS,
 * 429), and how a feed whose client does not read is handled. A feed writes
 * while its connection takes the data; once the connection's buffer is full
 * it stops, and so stops reading the event log for that client, until the
 * buffer drains; a feed that stays full for `stallMs` is dropped (its
 * connection closed), and its client resumes with Last-Event-ID when it
 * comes back. So a client that opens a replay of the whole log and never
 * reads it costs one page of events and a socket buffer, for `stallMs`.
 */
import type { ServerResponse } from 'node:http'
import { DocketError } from '../core/errors.js'
import type { Principal } from './auth.js'

export interface FeedLimits {
  /** Feeds one key (or session's key, or viewer token's job) may have open on this server. Default 20. */
  perKey: number
  /** Feeds this server keeps open in all. Default 1000. */
  total: number
  /** How long a feed whose client stopped reading is kept before it is dropped. Default 30 s. */
  stallMs: number
}

export const DEFAULT_FEED_LIMITS: FeedLimits = { perKey: 20, total: 1000, stallMs: 30_000 }

/** The open feeds of one server, counted per key and in all. */
export class FeedSlots {
  readonly #byKey = new Map<string, number>()
  #open = 0

  constructor(readonly limits: FeedLimits) {}

  /** Feeds open now. */
  get open(): number {
    return this.#open
  }

  /** Takes a slot for `principal`'s feed, or TOO_MANY_FEEDS; returns the (idempotent) release. */
  take(principal: Principal): () => void {
    const key = principal.keyId ?? principal.name
    const mine = this.#byKey.get(key) ?? 0
    if (mine >= this.limits.perKey)
      throw tooMany(`this key has ${mine} live feeds open on this server, the most one key may`, {
        scope: 'key',
        limit: this.limits.perKey,
      })
    if (this.#open >= this.limits.total)
      throw tooMany(`this server has ${this.#open} live feeds open, the most it keeps`, {
        scope: 'server',
        limit: this.limits.total,
      })
    this.#byKey.set(key, mine + 1)
    this.#open++
    let released = false
    return () => {
      if (released) return
      released = true
      this.#open--
      const left = (this.#byKey.get(key) ?? 1) - 1
      if (left > 0) this.#byKey.set(key, left)
      else this.#byKey.delete(key)
    }
  }
}

const tooMany = (why: string, details: { scope: 'key' | 'server'; limit: number }) =>
  new DocketError(
    'TOO_MANY_FEEDS',
    `${why} (${details.limit}): close one (or share one feed between views) before opening another`,
    details,
  )

/**
 * A writer of one SSE response that respects its buffer: `write` returns
 * nothing when the chunk went out, or a promise that settles once the
 * buffer has drained, the client has gone, or `stallMs` passed, after which
 * `onStall` drops the feed.
 */
export function streamWriter(
  res: ServerResponse,
  stallMs: number,
  onStall: () => void,
): (chunk: string) => Promise<void> | undefined {
  return (chunk) => {
    if (res.destroyed || res.writableEnded) return
    if (res.write(chunk)) return
    return new Promise<void>((resolve) => {
      const settle = () => {
        clearTimeout(timer)
        res.off('drain', settle).off('close', settle)
        resolve()
      }
      const timer = setTimeout(() => {
        settle()
        onStall()
      }, stallMs)
      res.once('drain', settle).once('close', settle)
    })
  }
}

/** The most a WebSocket feed lets wait in its connection's buffer before it waits for it to drain. */
const WS_HIGH_WATER = 64 * 1024

/** A minimal view of a `ws` WebSocket: what the feed uses of it. */
interface FeedSocket {
  readonly readyState: number
  readonly OPEN: number
  readonly bufferedAmount: number
  send(data: string, cb?: (error?: Error) => void): void
  terminate(): void
}

/** As streamWriter, for a WebSocket: past WS_HIGH_WATER buffered, a message waits until it is flushed. */
export function socketWriter(
  socket: FeedSocket,
  stallMs: number,
  onStall: () => void,
): (data: string) => Promise<void> | undefined {
  return (data) => {
    if (socket.readyState !== socket.OPEN) return
    if (socket.bufferedAmount < WS_HIGH_WATER) {
      socket.send(data)
      return
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        resolve()
        onStall()
      }, stallMs)
      socket.send(data, () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}
