/**
 * The live feed: one connection per tab to /api/v1/events, a WebSocket, or
 * Server-Sent Events when WebSockets do not get through. It reconnects on its
 * own and resumes after the last event id it saw, so nothing is missed.
 * Pages subscribe and either patch what they show (progress) or reload it.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import type { FeedEvent } from './types.js'

export type FeedStatus = 'connecting' | 'live' | 'offline'
type Listener = (event: FeedEvent) => void

const EVENT_KINDS = [
  'job.added',
  'job.started',
  'job.progress',
  'job.step.started',
  'job.step.completed',
  'job.step.failed',
  'job.log',
  'job.completed',
  'job.failed',
  'job.retrying',
  'job.cancelled',
  'job.waiting',
  'job.held',
  'job.blocked',
  'job.scheduled',
  'queue.paused',
  'queue.resumed',
  'worker.up',
  'worker.lost',
  'worker.stopped',
]

class Feed {
  #listeners = new Set<Listener>()
  #statusListeners = new Set<(s: FeedStatus) => void>()
  #status: FeedStatus = 'offline'
  #lastId: number | undefined
  #close: (() => void) | null = null
  #timer: ReturnType<typeof setTimeout> | undefined
  #failures = 0
  #sse = typeof WebSocket === 'undefined'
  #running = false

  get status(): FeedStatus {
    return this.#status
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#connect()
  }

  stop(): void {
    this.#running = false
    clearTimeout(this.#timer)
    this.#close?.()
    this.#close = null
    this.#lastId = undefined
    this.#setStatus('offline')
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  onStatus(listener: (s: FeedStatus) => void): () => void {
    this.#statusListeners.add(listener)
    return () => this.#statusListeners.delete(listener)
  }

  #setStatus(status: FeedStatus) {
    if (status === this.#status) return
    this.#status = status
    for (const l of this.#statusListeners) l(status)
  }

  #dispatch(event: FeedEvent) {
    // The last event delivered (in commit order, which on PostgreSQL is not id order) is where a reconnect resumes.
    this.#lastId = event.id
    for (const l of this.#listeners) {
      try {
        l(event)
      } catch (error) {
        console.error(error)
      }
    }
  }

  #connect() {
    if (!this.#running) return
    this.#setStatus('connecting')
    const after = this.#lastId === undefined ? '' : `?after=${this.#lastId}`
    let opened = false
    const onOpen = () => {
      opened = true
      this.#failures = 0
      this.#setStatus('live')
    }
    const onLost = () => {
      this.#close?.()
      this.#close = null
      if (!this.#running) return
      this.#setStatus('offline')
      if (!opened && ++this.#failures >= 2) this.#sse = !this.#sse // try the other transport
      const delay = Math.min(10_000, 500 * 2 ** Math.min(this.#failures, 5))
      this.#timer = setTimeout(() => this.#connect(), delay)
    }
    if (this.#sse) {
      const source = new EventSource(`/api/v1/events${after}`)
      const onMessage = (m: MessageEvent<string>) => this.#dispatch(JSON.parse(m.data) as FeedEvent)
      for (const kind of EVENT_KINDS) source.addEventListener(kind, onMessage)
      source.onopen = onOpen
      source.onerror = onLost
      this.#close = () => source.close()
    } else {
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
      const socket = new WebSocket(`${scheme}://${location.host}/api/v1/events${after}`)
      socket.onopen = onOpen
      socket.onmessage = (m: MessageEvent<string>) => {
        const data = JSON.parse(m.data) as FeedEvent | { error: unknown }
        if (!('error' in data)) this.#dispatch(data)
      }
      socket.onclose = onLost
      this.#close = () => {
        socket.onclose = null
        socket.close()
      }
    }
  }
}

export const feed = new Feed()

export function useFeedStatus(): FeedStatus {
  const [status, setStatus] = useState(feed.status)
  useEffect(() => {
    setStatus(feed.status) // it may have changed between the render and this effect
    return feed.onStatus(setStatus)
  }, [])
  return status
}

/** Calls `listener` with every event of the feed while the component is mounted. */
export function useFeed(listener: Listener): void {
  const ref = useRef(listener)
  ref.current = listener
  useEffect(() => feed.subscribe((e) => ref.current(e)), [])
}

/**
 * Reloads when events that `matches` arrive: at most once every `ms`, and
 * always once after the last of a burst, so what is shown ends up current.
 */
export function useLiveReload(matches: (e: FeedEvent) => boolean, reload: () => void, ms = 1000): void {
  const ref = useRef({ matches, reload })
  ref.current = { matches, reload }
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    let last = 0
    const off = feed.subscribe((e) => {
      if (timer !== undefined || !ref.current.matches(e)) return
      timer = setTimeout(
        () => {
          timer = undefined
          last = Date.now()
          ref.current.reload()
        },
        Math.max(50, last + ms - Date.now()),
      )
    })
    return () => {
      off()
      clearTimeout(timer)
    }
  }, [ms])
}

/** Job events that change what lists show (a state change); progress, steps and logs do not. */
export const isStateEvent = (e: FeedEvent) =>
  e.kind.startsWith('job.') &&
  !['job.progress', 'job.log', 'job.step.started', 'job.step.completed', 'job.step.failed'].includes(e.kind)
