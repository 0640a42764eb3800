/**
 * The live feed over Server-Sent Events, read with fetch's streams (no
 * EventSource: it cannot send an Authorization header). A connection that
 * drops is opened again with Last-Event-ID, after a short pause that grows
 * while the server stays away, so the iterator goes on where it stopped.
 */
import type { components } from './api.generated.js'
import { ApiError, apiBase, type ClientOptions } from './http.js'

type FeedEvent = components['schemas']['Event']

export interface EventsOptions {
  /** Only events of this queue. */
  queue?: string
  /** Only events of this job. */
  jobId?: string
  /** Replay the events after this id before going live. Default: only new events. */
  after?: number
  /** Stops the iterator (it then returns). */
  signal?: AbortSignal
  /** Most pauses between reconnections, in ms. Default 5,000. */
  maxReconnectMs?: number
}

/** One event of the stream as it was framed: `id:`, `event:` and `data:` lines, ended by a blank line. */
interface Frame {
  id: string | null
  event: string
  data: string
}

export async function* readEvents(client: ClientOptions, options: EventsOptions): AsyncGenerator<FeedEvent> {
  const fetchFn = (client.fetch ?? globalThis.fetch).bind(globalThis)
  let lastId: number | undefined = options.after
  let pause = 100
  const maxPause = options.maxReconnectMs ?? 5_000
  while (!options.signal?.aborted) {
    const query = new URLSearchParams()
    if (options.queue !== undefined) query.set('queue', options.queue)
    if (options.jobId !== undefined) query.set('jobId', options.jobId)
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    if (client.key) headers.authorization = `Bearer ${client.key}`
    if (lastId !== undefined) headers['last-event-id'] = String(lastId)
    let response: Response
    try {
      response = await fetchFn(`${apiBase(client.url)}/events${query.size ? `?${query}` : ''}`, {
        headers,
        ...(options.signal ? { signal: options.signal } : {}),
      })
    } catch (error) {
      if (options.signal?.aborted) return
      await sleep(pause, options.signal)
      pause = Math.min(maxPause, pause * 2)
      void error
      continue
    }
    if (!response.ok) {
      // A refusal (a bad filter, a revoked key) will not heal by itself: say so, once.
      const body = (await response.json().catch(() => ({}))) as {
        error?: { code?: ApiError['code']; message?: string; details?: Record<string, unknown> }
      }
      if (response.status >= 500 || response.status === 429) {
        await sleep(pause, options.signal)
        pause = Math.min(maxPause, pause * 2)
        continue
      }
      throw new ApiError(
        body.error?.code ?? 'INTERNAL',
        body.error?.message ?? `HTTP ${response.status}`,
        body.error?.details ?? {},
        response.status,
      )
    }
    try {
      for await (const frame of frames(response.body!)) {
        if (frame.event === 'feed.closed') {
          const e = JSON.parse(frame.data) as { code?: ApiError['code']; message?: string }
          throw new ApiError(e.code ?? 'UNAUTHENTICATED', e.message ?? 'the feed was closed', {}, 401)
        }
        if (frame.data === '') continue
        const event = JSON.parse(frame.data) as FeedEvent
        if (frame.id !== null) lastId = Number(frame.id)
        pause = 100
        yield event
      }
    } catch (error) {
      if (error instanceof ApiError) throw error
      if (options.signal?.aborted) return
      // The connection broke mid-stream: reconnect after the last event seen.
    }
    await sleep(pause, options.signal)
    pause = Math.min(maxPause, pause * 2)
  }
}

/** Splits a byte stream into SSE frames; comments (`: …`) and keep-alives are skipped. */
export async function* frames(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const reader = body
    .pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>)
    .getReader()
  let buffer = ''
  let frame: Frame = { id: null, event: 'message', data: '' }
  let hasData = false
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += value
      let newline = buffer.search(/\r?\n/)
      while (newline >= 0) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + (buffer[newline] === '\r' ? 2 : 1))
        if (line === '') {
          if (hasData || frame.event !== 'message') yield frame
          frame = { id: null, event: 'message', data: '' }
          hasData = false
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':')
          const field = colon < 0 ? line : line.slice(0, colon)
          const raw = colon < 0 ? '' : line.slice(colon + 1)
          const text = raw.startsWith(' ') ? raw.slice(1) : raw
          if (field === 'id') frame.id = text
          else if (field === 'event') frame.event = text
          else if (field === 'data') {
            frame.data = hasData ? `${frame.data}\n${text}` : text
            hasData = true
          }
        }
        newline = buffer.search(/\r?\n/)
      }
    }
  } finally {
    // Cancelling the reader cancels the piped body too, which closes the connection
    // (the body itself is locked to the pipe, so it cannot be cancelled directly).
    await reader.cancel().catch(() => {})
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
