/**
 * Dashboard sessions, kept in the database so that every `docket serve` on
 * it accepts them. Signing in with an API key creates a session: its random
 * id goes into an httpOnly, SameSite=Strict cookie (Secure over HTTPS) and
 * is stored only as a hash; it expires after `ttlMs`, ends on sign-out and
 * when its key is revoked, and has its own CSRF token. A change made with
 * the cookie must carry that token (x-csrf-token) and come from a page of
 * this server (Origin): the browser sends the cookie on its own.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { DocketError } from '../core/errors.js'
import type { Docket } from '../docket.js'
import type { ApiKeyInfo, SessionInfo } from '../storage/store.js'
import { accessOf } from './internals.js'

export const SESSION_COOKIE = 'docket_session'
/** Where earlier versions kept the raw API key; cleared whenever a session starts or ends. */
const LEGACY_COOKIE = 'docket_key'
export const DEFAULT_SESSION_TTL_MS = 24 * 3600_000

const hashId = (id: string) => createHash('sha256').update(id).digest('hex')
const randomToken = () => randomBytes(32).toString('base64url')

export class Sessions {
  constructor(
    private readonly docket: Docket,
    readonly ttlMs = DEFAULT_SESSION_TTL_MS,
  ) {}

  /** A new session for `key`; `id` goes into the cookie and is not stored anywhere else. */
  async start(key: ApiKeyInfo): Promise<{ id: string; session: SessionInfo }> {
    const id = randomToken()
    const session = await accessOf(this.docket).createSession({
      idHash: hashId(id),
      keyId: key.id,
      csrfToken: randomToken(),
      ttlMs: this.ttlMs,
    })
    return { id, session }
  }

  /** The live session whose id the cookie holds, or UNAUTHENTICATED. */
  async find(id: string): Promise<SessionInfo> {
    const session =
      id.length > 0 && id.length < 200 ? await accessOf(this.docket).findSession(hashId(id)) : null
    if (!session)
      throw new DocketError(
        'UNAUTHENTICATED',
        'the session has ended (expired, signed out or its key revoked): sign in again',
      )
    return session
  }

  async end(id: string): Promise<void> {
    if (id.length > 0 && id.length < 200) await accessOf(this.docket).deleteSession(hashId(id))
  }
}

export function checkCsrf(session: SessionInfo, token: unknown): void {
  const expected = Buffer.from(session.csrfToken)
  const given = Buffer.from(typeof token === 'string' ? token : '')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new DocketError(
      'FORBIDDEN',
      'missing or wrong x-csrf-token header: a change made with the session cookie must carry the session’s token (GET /api/v1/session gives it)',
    )
  }
}

export const isUnsafe = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method)

/**
 * The origin this server's own pages are served from, which a browser names
 * in `Origin`: scheme, host and port. `publicUrl` (`--public-url`) pins it;
 * without it, it is the request's own: its scheme and Host, which behind a
 * trusted proxy (`--trust-proxy`) are what X-Forwarded-Proto and
 * X-Forwarded-Host say.
 */
export function ownOrigin(request: FastifyRequest, publicUrl?: string): string | null {
  try {
    return new URL(publicUrl ?? `${request.protocol}://${request.host}`).origin
  } catch {
    return null // a Host header that is not a host
  }
}

/** `origin` as a URL's origin (a default port left out), or null when it is not an http(s) origin (such as "null"). */
function normalOrigin(origin: string): string | null {
  try {
    const page = new URL(origin)
    return page.protocol === 'http:' || page.protocol === 'https:' ? page.origin : null
  } catch {
    return null
  }
}

/** Whether a page of `origin` is one of this server's (scheme, host and port alike) or one of `allowed`. */
export function isAllowedOrigin(
  request: FastifyRequest,
  origin: string,
  allowed: string[],
  publicUrl?: string,
): boolean {
  const page = normalOrigin(origin)
  if (page !== null && page === ownOrigin(request, publicUrl)) return true
  return allowed.includes(origin) || (page !== null && allowed.some((a) => normalOrigin(a) === page))
}

/**
 * A browser names the page a request comes from in `Origin`; it must be a
 * page of this server (the same scheme, host and port: see ownOrigin) or one
 * of `allowed`. `required`: refuse a request without Origin too (every
 * browser sends it on a change, so a cookie request without one is not from
 * our page).
 */
export function checkOrigin(
  request: FastifyRequest,
  allowed: string[],
  required: boolean,
  publicUrl?: string,
): void {
  const origin = request.headers.origin
  if (origin === undefined) {
    if (!required) return
    throw new DocketError(
      'FORBIDDEN',
      'the Origin header is missing: a change made with the session cookie must come from the dashboard’s page',
    )
  }
  if (isAllowedOrigin(request, origin, allowed, publicUrl)) return
  throw new DocketError(
    'FORBIDDEN',
    `requests from the page origin ${JSON.stringify(origin)} are not allowed: only this server's own pages (${ownOrigin(request, publicUrl) ?? 'unknown'}) may make changes with the session cookie`,
    { origin },
  )
}

/**
 * The session id the request's cookie holds (@fastify/cookie parses the
 * header: the first of several cookies of the name wins, and a value that is
 * not valid percent-encoding is taken as it is).
 */
export function sessionIdOf(request: FastifyRequest): string | undefined {
  return request.cookies[SESSION_COOKIE]
}

/** Readable by this server only (HttpOnly, SameSite=Strict, the whole site), and over HTTPS only when served on it. */
const attributes = (secure: boolean): CookieSerializeOptions => ({
  path: '/',
  httpOnly: true,
  sameSite: 'strict',
  secure,
})

/** Starts the session's cookie for `ttlMs` (Max-Age, so no clock of the browser's is trusted) and clears the legacy one. */
export function setSessionCookies(reply: FastifyReply, id: string, ttlMs: number, secure: boolean): void {
  reply.setCookie(SESSION_COOKIE, id, { ...attributes(secure), maxAge: Math.ceil(ttlMs / 1000) })
  reply.setCookie(LEGACY_COOKIE, '', { ...attributes(secure), maxAge: 0 })
}

export function clearSessionCookies(reply: FastifyReply, secure: boolean): void {
  for (const name of [SESSION_COOKIE, LEGACY_COOKIE])
    reply.setCookie(name, '', { ...attributes(secure), maxAge: 0 })
}
