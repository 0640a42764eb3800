/**
 * A Server-Sent Events client over fetch: it reads the stream in the
 * background, parses `id:` / `event:` / `data:` blocks (and `:` comments),
 * and lets a test wait, with a timeout, until what it expects has arrived.
 */
import assert from 'node:assert/strict'
import type { Json } from './harness.js'

export interface SseMessage {
  /** The `id:` field, as sent. */
  id: string | null
  /** The `event:` field. */
  event: string | null
  /** The `data:` field, parsed as JSON. */
  data: Json
}

export class SseStream {
  readonly messages: SseMessage[] = []
  readonly comments: string[] = []
  #controller: AbortController
  #pump: Promise<void> = Promise.resolve()
  #wake: (() => void)[] = []
  #ended = false

  private constructor(
    readonly response: Response,
    controller: AbortController,
  ) {
    this.#controller = controller
  }

  /** Opens the stream; resolves once the response headers are in (any status). */
  static async open(
    url: string,
    key: string | null,
    headers: Record<string, string> = {},
    timeoutMs = 10_000,
  ): Promise<SseStream> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), timeoutMs)
    const h: Record<string, string> = { accept: 'text/event-stream', ...headers }
    if (key) h.authorization = `Bearer ${key}`
    const response = await fetch(url, { headers: h, signal: controller.signal })
    clearTimeout(timer)
    const stream = new SseStream(response, controller)
    if (response.ok && response.body) stream.#pump = stream.#read(response.body)
    else stream.#ended = true
    return stream
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true }).replaceAll('\r\n', '\n')
        let end = buffer.indexOf('\n\n')
        while (end >= 0) {
          this.#block(buffer.slice(0, end))
          buffer = buffer.slice(end + 2)
          end = buffer.indexOf('\n\n')
        }
        this.#notify()
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error
    } finally {
      this.#ended = true
      this.#notify()
    }
  }

  #block(block: string): void {
    let id: string | null = null
    let event: string | null = null
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim())
        continue
      }
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'id') id = value
      else if (field === 'event') event = value
      else if (field === 'data') data.push(value)
    }
    if (data.length > 0) this.messages.push({ id, event, data: JSON.parse(data.join('\n')) as Json })
  }

  #notify(): void {
    for (const wake of this.#wake.splice(0)) wake()
  }

  /** Waits until `done(messages)` holds; fails after `timeoutMs` listing what did arrive. */
  async until(
    done: (messages: SseMessage[]) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<SseMessage[]> {
    const deadline = Date.now() + timeoutMs
    while (!done(this.messages)) {
      if (this.#ended) assert.fail(`the stream ended before ${what}; got ${this.kinds().join(', ')}`)
      const left = deadline - Date.now()
      if (left <= 0)
        assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.kinds().join(', ')}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#wake.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    return this.messages
  }

  /** Waits until the server has ended the stream; fails after `timeoutMs`. */
  async ended(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.#ended) {
      const left = deadline - Date.now()
      if (left <= 0) assert.fail(`the stream was still open after ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#wake.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** Waits until a comment (such as `connected`) has arrived. */
  async comment(text: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.comments.includes(text)) {
      if (this.#ended || Date.now() > deadline) assert.fail(`no ': ${text}' comment on the stream`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  /** Messages about one job. */
  of(jobId: string): SseMessage[] {
    return this.messages.filter((m) => m.data.jobId === jobId)
  }

  kinds(jobId?: string): string[] {
    return (jobId ? this.of(jobId) : this.messages).map((m) => String(m.event))
  }

  async close(): Promise<void> {
    this.#controller.abort()
    await this.#pump
  }
}

/** Each message's `id:` and `event:` lines agree with its data, and ids only increase. */
export function assertWellFormed(messages: SseMessage[]): void {
  let last = 0
  for (const m of messages) {
    assert.equal(m.id, String(m.data.id), `id: line ${m.id} vs data.id ${m.data.id}`)
    assert.equal(m.event, m.data.kind, `event: line ${m.event} vs data.kind ${m.data.kind}`)
    assert.ok(Number(m.id) > last, `event ids go up: ${m.id} after ${last}`)
    last = Number(m.id)
  }
}
