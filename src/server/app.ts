/**
 * buildApp(): the Docket HTTP API as a Fastify instance, ready for
 * `inject()` in tests or `listen()` in `docket serve`.
 */

import { existsSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import cookie from '@fastify/cookie'
import multipart from '@fastify/multipart'
import fastifyStatic from '@fastify/static'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import websocket from '@fastify/websocket'
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from 'fastify'
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod'
import { DEFAULT_MEDIA_TYPES } from '../artifacts/content.js'
import { MAX_PATH_PARAM_LENGTH } from '../core/bounds.js'
import { DocketError } from '../core/errors.js'
import type { Docket } from '../docket.js'
import type { Role } from '../storage/store.js'
import {
  ANONYMOUS_ADMIN,
  type Authenticator,
  credentialCheck,
  FailedAuthLimiter,
  identify,
  KeyUsage,
  type Principal,
} from './auth.js'
import { frameworkErrors, installErrorHandling, serializeError } from './errors.js'
import { DEFAULT_FEED_LIMITS, type FeedLimits, FeedSlots } from './feed-limits.js'
import { artifactRoutes } from './routes/artifacts.js'
import { batchRoutes } from './routes/batches.js'
import { eventRoutes } from './routes/events.js'
import { healthRoutes } from './routes/health.js'
import { jobRoutes } from './routes/jobs.js'
import { keyRoutes } from './routes/keys.js'
import { leaseBatchRoutes } from './routes/lease-batches.js'
import { queueRoutes } from './routes/queues.js'
import { remoteWorkerRoutes } from './routes/remote.js'
import { resultRoutes } from './routes/results.js'
import { scheduleRoutes } from './routes/schedules.js'
import { sessionRoutes } from './routes/session.js'
import { statsRoutes } from './routes/stats.js'
import { upstreamRoutes } from './routes/upstream.js'
import { workerAdminRoutes } from './routes/workers.js'
import { securityHeaders } from './security-headers.js'
import { checkOrigin, isUnsafe, Sessions } from './session.js'
import { DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_REQUEST_BYTES, type UploadLimits } from './uploads.js'
import { identifyViewer, viewerTokenCheck, viewerTokenOf } from './viewer.js'

export interface AppOptions {
  docket: Docket
  /** 'keys' (the default) requires an API key on /api/v1; 'none' treats every caller as admin. */
  auth?: 'keys' | 'none'
  /** pino logger options, or false. */
  logger?: boolean | object
  /** Largest JSON body, in bytes. Default 1 MiB. */
  bodyLimit?: number
  /** Largest uploaded file, in bytes. Default 25 MiB. */
  maxUploadBytes?: number
  /** Largest upload request (all its files together), in bytes. Default 512 MiB. */
  maxUploadRequestBytes?: number
  /** Media types accepted for uploads. */
  mediaTypes?: string[]
  /** The built dashboard to serve at `/`; default dashboard/dist of this package, when it exists. */
  dashboardDir?: string
  /** Origins (besides this server's own) whose pages may open the WebSocket feed and use a session. */
  allowedOrigins?: string[]
  /**
   * Which proxies to believe about the client (X-Forwarded-For, -Proto,
   * -Host): false (the default: the socket's peer is the client), true (any
   * peer), or the proxies' addresses and CIDR ranges, comma-separated
   * (`loopback`, `linklocal` and `uniquelocal` name the usual ranges). Decides the
   * address failed authentications are counted against, the Secure cookie
   * flag and, unless `publicUrl` pins it, the origin the Origin check
   * compares with.
   */
  trustProxy?: boolean | string
  /**
   * The URL the dashboard is reached at from browsers (`https://docket.example.com`):
   * the Origin check of changes made with the session cookie, and of the
   * WebSocket feed, compares a page's origin (scheme, host and port) with this
   * one only. Without it, with the request's own scheme and Host (behind a
   * trusted proxy: X-Forwarded-Proto and X-Forwarded-Host).
   */
  publicUrl?: string
  /** How long a dashboard session lasts. Default 24 hours. */
  sessionTtlMs?: number
  /**
   * How often an open live feed (SSE, WebSocket) checks that the key, session
   * or viewer token it was opened with is still valid; it closes once it is
   * not. Default 5 s.
   */
  credentialRecheckMs?: number
  /**
   * Live feeds (SSE and WebSocket on /events): at most `perKey` open per key
   * (default 20) and `total` in all (default 1000) on this server, past which
   * a new one is 429 TOO_MANY_FEEDS; one whose client reads nothing while its
   * buffer is full is closed after `stallMs` (default 30 s). See feed-limits.ts.
   */
  feeds?: Partial<FeedLimits>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** How many live feeds this server has open now. */
    openFeeds: () => number
  }
  interface FastifyRequest {
    principal: Principal
    /** Whether the credential this request came in with is still valid (a revoked key is not). */
    stillAuthenticated: () => Promise<boolean>
  }
  interface FastifyContextConfig {
    /** Roles allowed on this route; absent means public. */
    roles?: Role[]
    /** Also open to a viewer token (`?token=dv_…`) for one job; the route narrows it to that job. */
    viewer?: boolean
  }
}

export type App = FastifyInstance

/** The feed limits with their defaults; each a whole number of at least 1. */
function feedLimits(given: Partial<FeedLimits> = {}): FeedLimits {
  const limits = { ...DEFAULT_FEED_LIMITS, ...given }
  for (const [name, value] of Object.entries(limits))
    if (!Number.isInteger(value) || value < 1)
      throw new DocketError('INVALID_ARGUMENT', `feeds.${name} must be a whole number of at least 1`, {
        issues: [{ path: `feeds.${name}`, message: 'expected an integer >= 1' }],
      })
  return limits
}

/** A public URL is an http(s) URL; only its origin counts. */
export function checkPublicUrl(url: string): string {
  let parsed: URL | null = null
  try {
    parsed = new URL(url)
  } catch {}
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    throw new DocketError(
      'INVALID_ARGUMENT',
      `publicUrl must be an http:// or https:// URL, not ${JSON.stringify(url)}`,
      {
        issues: [{ path: 'publicUrl', message: 'expected an http(s) URL' }],
      },
    )
  return parsed.origin
}

/**
 * Credentials never reach the log: some plugins log whole request headers at
 * debug or trace level (@fastify/multipart logs busboy's options, headers
 * included), so the headers that carry a key or a session are censored
 * wherever a logged object holds them.
 */
const SECRET_HEADERS = ['authorization', 'cookie', 'x-api-key', 'x-csrf-token', 'x-lease-token']
const REDACT = SECRET_HEADERS.flatMap((h) =>
  // pino's paths take a name with a dash only in brackets.
  ['req.headers', 'headers', '*.headers'].map((at) => `${at}["${h}"]`),
)

function withRedaction(logger: boolean | object): boolean | object {
  if (logger === false) return false
  const base = (logger === true ? {} : logger) as {
    redact?: string[] | { paths: string[] }
    serializers?: Record<string, unknown>
  }
  const own = Array.isArray(base.redact) ? base.redact : (base.redact?.paths ?? [])
  return {
    ...base,
    redact: { paths: [...REDACT, ...own], censor: '[redacted]' },
    // A database error's text may quote the request's data: see serializeError.
    serializers: { ...base.serializers, err: serializeError },
  }
}

/**
 * One log line per request, at info, once it is answered: method, path,
 * status and milliseconds (Fastify's own two lines, "incoming request" and
 * "request completed", are off). The path goes without its query string,
 * which may carry a lease token (`?token=`) or other secrets; no body is
 * logged. Below info (warn and up) requests log nothing. At trace, a request
 * also logs its arrival with its headers, the secret ones censored.
 */
function logEachRequest(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (request.log.level !== 'trace') return
    const path = request.url.split('?', 1)[0]!
    request.log.trace({ method: request.method, path, headers: request.headers }, 'request received')
  })
  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?', 1)[0]!
    const status = reply.statusCode
    const ms = Math.round(reply.elapsedTime * 10) / 10
    request.log.info(
      { method: request.method, path, status, ms },
      `${request.method} ${path} ${status} ${ms} ms`,
    )
  })
}

export async function buildApp(options: AppOptions): Promise<App> {
  if (options.publicUrl !== undefined) checkPublicUrl(options.publicUrl)
  const app = Fastify({
    logger: withRedaction(options.logger ?? false),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    trustProxy: options.trustProxy ?? false,
    // Long enough for the longest id a path carries, so every worker id the body of a registration takes works in a path.
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    frameworkErrors,
  }).withTypeProvider<ZodTypeProvider>()
  logEachRequest(app)
  closeUnusedConnectionsOnClose(app)
  app.addHook('onSend', securityHeaders)
  // The server's time on every answer, so the dashboard measures elapsed times against it, not the browser's clock.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-server-time', String(options.docket.now().getTime()))
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  // The dashboard routes in the browser: any other GET for a page gets its index.html.
  let servePages = false
  installErrorHandling(app, (request, reply) => {
    const wantsPage =
      servePages &&
      request.method === 'GET' &&
      !request.url.startsWith('/api/') &&
      (request.headers.accept ?? '').includes('text/html')
    return wantsPage ? reply.sendFile('index.html') : null
  })

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Docket API',
        version: '1',
        description:
          'A durable job queue. Errors: { error: { code, message, details } }; see docs/errors.md.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } })
  const uploadLimits: UploadLimits = {
    maxFileBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    maxRequestBytes: options.maxUploadRequestBytes ?? DEFAULT_MAX_UPLOAD_REQUEST_BYTES,
    mediaTypes: options.mediaTypes ?? DEFAULT_MEDIA_TYPES,
  }
  await app.register(multipart, {
    limits: {
      fileSize: uploadLimits.maxFileBytes,
      files: 20,
      fields: 20,
      fieldSize: 1024 * 1024,
    },
    throwFileSizeLimit: true,
  })
  // The API speaks JSON (and multipart for files); a text/plain body is refused
  // with 415 rather than handed to a route as a string.
  app.removeContentTypeParser('text/plain')

  const auth: Authenticator = {
    docket: options.docket,
    sessions: new Sessions(options.docket, options.sessionTtlMs),
    limiter: new FailedAuthLimiter(),
    usage: new KeyUsage(options.docket),
    allowedOrigins: options.allowedOrigins ?? [],
    publicUrl: options.publicUrl,
  }
  // Before the authentication hook: it reads the session id from request.cookies.
  await app.register(cookie)
  app.decorateRequest('principal', null as unknown as Principal)
  app.decorateRequest('stillAuthenticated', null as unknown as () => Promise<boolean>)
  app.addHook('onRequest', async (request: FastifyRequest, reply) => {
    const roles = request.routeOptions.config?.roles
    if (!roles) return
    if (options.auth === 'none') {
      // Every caller is an admin, so a page of any other site must not be able to act through
      // the browser: a change needs no Origin or this server's own (DNS rebinding aside, the
      // server listens on loopback only in this mode).
      if (isUnsafe(request.method)) checkOrigin(request, auth.allowedOrigins, false, auth.publicUrl)
      request.principal = ANONYMOUS_ADMIN
      request.stillAuthenticated = async () => true
      return
    }
    const viewerToken = request.routeOptions.config?.viewer ? viewerTokenOf(request) : undefined
    if (viewerToken !== undefined) {
      // The route itself narrows a viewer to its one job (routes/access.ts).
      request.principal = await identifyViewer(auth, request, viewerToken)
      request.stillAuthenticated = viewerTokenCheck(auth, viewerToken)
      // The customer's own page reads it from its own origin (fetch, EventSource). No cookie is
      // involved, and the token opens one job read-only, so any origin may read the answer.
      reply.header('access-control-allow-origin', '*')
      return
    }
    request.principal = await identify(auth, request, reply)
    request.stillAuthenticated = credentialCheck(auth, request)
    if (!(roles as string[]).includes(request.principal.role)) {
      throw new DocketError(
        'FORBIDDEN',
        `a ${request.principal.role} key may not ${request.method} ${request.routeOptions.url}`,
        {
          role: request.principal.role,
          allowed: roles,
        },
      )
    }
  })

  const deps = { docket: options.docket }
  const feeds = new FeedSlots(feedLimits(options.feeds))
  app.decorate('openFeeds', () => feeds.open)
  await app.register(sessionRoutes({ auth, mode: options.auth ?? 'keys' }), { prefix: '/api/v1' })
  await app.register(keyRoutes(deps), { prefix: '/api/v1' })
  await app.register(
    statsRoutes({
      ...deps,
      onEveryResponse: (hook) => app.addHook('onResponse', hook),
      openFeeds: () => feeds.open,
    }),
  )
  await app.register(healthRoutes(deps))
  await app.register(queueRoutes(deps), { prefix: '/api/v1' })
  await app.register(jobRoutes(deps), { prefix: '/api/v1' })
  await app.register(resultRoutes(deps), { prefix: '/api/v1' })
  await app.register(batchRoutes(deps), { prefix: '/api/v1' })
  await app.register(scheduleRoutes(deps), { prefix: '/api/v1' })
  await app.register(remoteWorkerRoutes(deps), { prefix: '/api/v1' })
  await app.register(leaseBatchRoutes(deps), { prefix: '/api/v1' })
  await app.register(workerAdminRoutes(deps), { prefix: '/api/v1' })
  await app.register(upstreamRoutes(deps), { prefix: '/api/v1' })
  await app.register(artifactRoutes({ ...deps, limits: uploadLimits }), { prefix: '/api/v1' })
  await app.register(
    eventRoutes({
      ...deps,
      allowedOrigins: options.allowedOrigins,
      publicUrl: options.publicUrl,
      recheckMs: options.credentialRecheckMs ?? 5_000,
      slots: feeds,
    }),
    { prefix: '/api/v1' },
  )
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  const dashboard = options.dashboardDir ?? fileURLToPath(new URL('../../dashboard/dist', import.meta.url))
  if (existsSync(join(dashboard, 'index.html'))) {
    await app.register(fastifyStatic, { root: dashboard, prefix: '/', wildcard: false, index: 'index.html' })
    servePages = true
  }
  return app
}

/**
 * On close, Fastify ends the idle keep-alive connections, but not one that was
 * opened and never carried a request (a client that gave up on a call while
 * connecting keeps it in its pool): Node would wait out its headers timeout,
 * about 70 s, before the server closes. Such a connection has nothing in
 * flight, so it is ended at once.
 */
function closeUnusedConnectionsOnClose(app: ReturnType<typeof Fastify>): void {
  const unused = new Set<Socket>()
  app.server.on('connection', (socket: Socket) => {
    unused.add(socket)
    socket.once('close', () => unused.delete(socket))
  })
  app.server.on('request', (request: IncomingMessage) => unused.delete(request.socket))
  app.addHook('preClose', async () => {
    for (const socket of unused) socket.destroy()
  })
}
