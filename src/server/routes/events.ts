/**
 * The live feed, as Server-Sent Events (and, on the same path, a WebSocket).
 * Each event carries its id; a client that reconnects with Last-Event-ID
 * (or ?after=) gets what it missed, within the event log's retention.
 * A user receives only events about their own jobs. A stream lives no
 * longer than its credential: every `recheckMs` it asks whether the key,
 * session or viewer token it was opened with is still valid, and once it is
 * not (revoked, signed out, expired) it says so and closes.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { jobId, queueName } from '../../core/bounds.js'
import { DocketError, invalidArgument, isDocketError, notFound } from '../../core/errors.js'
import type { Docket } from '../../docket.js'
import type { DocketEvent } from '../../events/feed.js'
import type { Principal } from '../auth.js'
import { DEFAULT_FEED_LIMITS, FeedSlots, socketWriter, streamWriter } from '../feed-limits.js'
import { isAllowedOrigin } from '../session.js'
import { eventJson, eventView, viewerEventJson } from '../views.js'

type EventJson = ReturnType<typeof eventJson>

import { READERS } from './access.js'
import { errorResponses, viewerTokenQuery } from './common.js'

const feedQuery = z.strictObject({
  queue: queueName.optional(),
  jobId: jobId.optional(),
  after: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('replay events after this id'),
  token: viewerTokenQuery,
})

/** Decides, with a small cache of job owners, whether a principal may see an event. */
export function eventFilter(docket: Docket, principal: Principal) {
  const owners = new Map<string, string | null>()
  return async (event: DocketEvent): Promise<boolean> => {
    if (principal.role === 'admin') return true
    if (principal.role === 'viewer') return event.jobId !== null && event.jobId === principal.jobId
    if (principal.role !== 'user' || event.jobId === null) return false
    if (!owners.has(event.jobId)) {
      const job = await docket.findJob(event.jobId)
      if (owners.size > 10_000) owners.clear()
      owners.set(event.jobId, job?.owner ?? null)
    }
    return owners.get(event.jobId) === principal.name
  }
}

export function parseAfter(
  query: number | undefined,
  header: string | string[] | undefined,
): number | undefined {
  if (query !== undefined) return query
  const value = Array.isArray(header) ? header[0] : header
  if (value === undefined || value === '') return undefined
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw invalidArgument('Last-Event-ID must be an event id', [
      { path: 'headers.last-event-id', message: 'expected a whole number of at most 2^53 - 1' },
    ])
  return Number(value)
}

/**
 * A browser's WebSocket carries its page's Origin; only this server's own
 * pages (scheme, host and port: session.ts ownOrigin) and `allowed` may open
 * the feed. A client that sends no Origin is not a browser.
 */
export function assertSameOrigin(request: FastifyRequest, allowed: string[], publicUrl?: string): void {
  const origin = request.headers.origin
  if (origin === undefined || isAllowedOrigin(request, origin, allowed, publicUrl)) return
  throw new DocketError('FORBIDDEN', `WebSocket connections from origin ${origin} are not allowed`, {
    origin,
  })
}

/** The release of each feed request's slot, from preHandler to the handler that ends it. */
const feedSlots = new WeakMap<FastifyRequest, () => void>()

/** What a feed says before it closes because its credential is no longer valid. */
const CREDENTIAL_ENDED = {
  code: 'UNAUTHENTICATED',
  message: 'the credential this feed was opened with is no longer valid (revoked, signed out or expired)',
} as const

/**
 * Calls `onEnded` once the request's credential is no longer valid, checking
 * every `ms`; returns the function that stops checking.
 */
function watchCredential(request: FastifyRequest, ms: number, onEnded: () => void): () => void {
  let busy = false
  const timer = setInterval(async () => {
    if (busy) return
    busy = true
    try {
      if (!(await request.stillAuthenticated())) {
        clearInterval(timer)
        onEnded()
      }
    } finally {
      busy = false
    }
  }, ms)
  timer.unref()
  return () => clearInterval(timer)
}

export const eventRoutes =
  ({
    docket,
    allowedOrigins = [],
    publicUrl,
    recheckMs = 5_000,
    slots = new FeedSlots(DEFAULT_FEED_LIMITS),
  }: {
    docket: Docket
    allowedOrigins?: string[]
    publicUrl?: string
    recheckMs?: number
    /** The server's open feeds and their limits (feed-limits.ts). */
    slots?: FeedSlots
  }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()

    /** Checks the request's filters; throws a DocketError before anything is sent. */
    const prepare = async (request: FastifyRequest) => {
      const { token: _token, ...q } = request.query as z.infer<typeof feedQuery>
      const { principal } = request
      if (principal.role === 'viewer') {
        // A viewer's feed is its one job's; asking for another is asking for a missing job.
        if (q.jobId !== undefined && q.jobId.toLowerCase() !== principal.jobId) throw notFound('job', q.jobId)
        q.jobId = principal.jobId
        q.queue = undefined
      }
      if (q.jobId !== undefined) await docket.getJobEvents(q.jobId, { limit: 1 }) // validates the id
      return { ...q, afterId: parseAfter(q.after, request.headers['last-event-id']) }
    }

    /**
     * Subscribes for one client; `send` gets each event the principal may see, in order, as it
     * may see it (a viewer token: narrowed, views.ts viewerEventJson). While the promise `send`
     * returns is pending (the client's buffer is full), nothing more is read for this client.
     */
    const open = (
      request: FastifyRequest,
      f: Awaited<ReturnType<typeof prepare>>,
      send: (e: DocketEvent, json: EventJson) => Promise<void> | undefined,
    ) => {
      const allowed = eventFilter(docket, request.principal)
      const project = request.principal.role === 'viewer' ? viewerEventJson : eventJson
      return docket.subscribe(
        async (event) => {
          if (!(await allowed(event))) return
          const json = project(event)
          if (json) await send(event, json)
        },
        { queue: f.queue, jobId: f.jobId, afterId: f.afterId },
      )
    }

    const stallMs = slots.limits.stallMs
    const dropped = (request: FastifyRequest) =>
      request.log.info(
        { feed: '/events', stallMs },
        `dropped a live feed whose client read nothing for ${stallMs} ms (it resumes with Last-Event-ID)`,
      )

    app.route({
      method: 'GET',
      url: '/events',
      config: { roles: [...READERS], viewer: true },
      schema: {
        tags: ['events'],
        summary:
          'Live feed of job, queue and worker events: Server-Sent Events, or a WebSocket (JSON messages) on upgrade',
        description: `Server-Sent Events: each event is \`id: <id>\`, \`event: <kind>\`, \`data: <Event as JSON>\`; reconnect with Last-Event-ID (or ?after=) to resume. Without either, the feed starts with the events committed after it opened. Over a WebSocket each message is an Event as JSON. Once the key, session or viewer token the feed was opened with is no longer valid (checked every few seconds), the feed ends: over SSE with a last event named \`feed.closed\` whose data is \`{"code":"UNAUTHENTICATED","message":...}\`, over a WebSocket with \`{"error":{...}}\` and close code 1008. A server keeps at most ${slots.limits.perKey} feeds open per key and ${slots.limits.total} in all (429 TOO_MANY_FEEDS past either); a feed whose client reads nothing for ${slots.limits.stallMs} ms while its connection's buffer is full is closed (resume with Last-Event-ID).`,
        querystring: feedQuery,
        response: {
          200: {
            description: 'a stream of events, each an Event',
            content: { 'text/event-stream': { schema: eventView } },
          },
          ...errorResponses(400, 403),
        },
      },
      preHandler: async (request, reply) => {
        const upgrade = request.headers.upgrade?.toLowerCase() === 'websocket'
        // The request's scheme and host as the trusted proxy reports them, unless publicUrl pins them.
        if (upgrade) assertSameOrigin(request, allowedOrigins, publicUrl)
        // Last, so that a refused request holds no slot; given back when the feed's connection ends.
        const release = slots.take(request.principal)
        feedSlots.set(request, release)
        // SSE: the response's end; a WebSocket: its socket's (also when the upgrade itself fails).
        if (upgrade) request.raw.socket?.once('close', release)
        else reply.raw.once('close', release)
      },
      handler: async (request, reply) => {
        const filters = await prepare(request)
        const res = reply.raw
        // Headers set so far (a viewer's CORS header) go out too: hijacked, the reply sends none itself.
        const earlier = reply.getHeaders() as Record<string, string>
        reply.hijack()
        res.writeHead(200, {
          ...earlier,
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        })
        res.write(': connected\n\n')
        // Listen for the client leaving before subscribing: one that leaves meanwhile must not leave
        // behind a subscription that reads the event log for ever.
        let subscription: Awaited<ReturnType<typeof open>> | null = null
        let keepAlive: NodeJS.Timeout | undefined
        let unwatch = () => {}
        const stop = () => {
          clearInterval(keepAlive)
          unwatch()
          void subscription?.close()
        }
        request.raw.once('close', stop)
        res.once('close', stop)
        const write = streamWriter(res, stallMs, () => {
          dropped(request)
          res.destroy()
        })
        subscription = await open(request, filters, (event, json) =>
          write(`id: ${event.id}\nevent: ${event.kind}\ndata: ${JSON.stringify(json)}\n\n`),
        )
        if (request.raw.destroyed || res.destroyed) return stop()
        // A comment now and then keeps proxies from closing a quiet feed; none into a full buffer.
        keepAlive = setInterval(() => {
          if (!res.writableNeedDrain) res.write(': keep-alive\n\n')
        }, 15_000)
        unwatch = watchCredential(request, recheckMs, () => {
          stop()
          res.end(`event: feed.closed\ndata: ${JSON.stringify(CREDENTIAL_ENDED)}\n\n`)
        })
      },
      wsHandler: async (socket, request) => {
        let subscription: Awaited<ReturnType<typeof open>> | null = null
        let unwatch = () => {}
        const release = feedSlots.get(request) ?? (() => {})
        socket.on('close', () => {
          release()
          unwatch()
          void subscription?.close()
        })
        try {
          const filters = await prepare(request)
          const write = socketWriter(socket, stallMs, () => {
            dropped(request)
            socket.terminate()
          })
          subscription = await open(request, filters, (_event, json) => write(JSON.stringify(json)))
          if (socket.readyState !== socket.OPEN) {
            await subscription.close()
            return
          }
          unwatch = watchCredential(request, recheckMs, () => {
            socket.send(JSON.stringify({ error: CREDENTIAL_ENDED }))
            socket.close(1008, CREDENTIAL_ENDED.code)
          })
        } catch (error) {
          const body = isDocketError(error)
            ? error.toJSON()
            : { code: 'INTERNAL', message: 'could not subscribe' }
          socket.send(JSON.stringify({ error: body }))
          socket.close(1008, body.code)
        }
      },
    })
  }
