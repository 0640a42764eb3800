/**
 * API keys: random, shown once, stored as a sha256 hash. A key belongs to a
 * principal with a role: `admin` (everything), `user` (their own jobs,
 * batches and artifacts), `worker` (claim and report only).
 */
import { createHash, randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { v7 as uuidv7 } from 'uuid'
import { DocketError, isDocketError } from '../core/errors.js'
import type { Docket } from '../docket.js'
import type { ApiKeyInfo, Role } from '../storage/store.js'
import { accessOf } from './internals.js'
import {
  checkCsrf,
  checkOrigin,
  clearSessionCookies,
  isUnsafe,
  type Sessions,
  sessionIdOf,
} from './session.js'

export interface Principal {
  name: string
  /** A key's role; or `viewer`, a viewer token's (server/viewer.ts), which sees one job only. */
  role: Role | 'viewer'
  keyId: string | null
  /** The one job a viewer may see. */
  jobId?: string
}

export const ANONYMOUS_ADMIN: Principal = { name: 'local', role: 'admin', keyId: null }

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex')

export const principalOf = (info: ApiKeyInfo): Principal => ({
  name: info.name,
  role: info.role,
  keyId: info.id,
})

/** Creates a key and returns it with its record. The key is in the return value only: store it now. */
export async function createKey(
  docket: Docket,
  name: string,
  role: Role,
): Promise<{ key: string; info: ApiKeyInfo }> {
  const secret = randomBytes(24).toString('base64url')
  const prefix = `dk_${secret.slice(0, 6)}`
  const key = `${prefix}_${secret.slice(6)}`
  const info = await accessOf(docket).createApiKey({ id: uuidv7(), name, role, prefix, hash: hashKey(key) })
  return { key, info }
}

/** `dk_xxxxxx` of a key of the shape createKey makes (the part listings show), else null. */
export function keyPrefix(key: string): string | null {
  return /^dk_[A-Za-z0-9_-]{6}_[A-Za-z0-9_-]{26}$/.test(key) ? key.slice(0, 9) : null
}

/** The live key `key` is, or UNAUTHENTICATED. */
export async function findKey(docket: Docket, key: string | undefined): Promise<ApiKeyInfo> {
  if (key === undefined)
    throw new DocketError(
      'UNAUTHENTICATED',
      'an API key is required: send Authorization: Bearer <key> (or sign in: POST /api/v1/session)',
    )
  const info = key.length > 0 && key.length < 200 ? await accessOf(docket).findApiKey(hashKey(key)) : null
  if (!info) throw new DocketError('UNAUTHENTICATED', 'the API key is not valid (unknown or revoked)')
  return info
}

/** The key in `Authorization: Bearer <key>` or `x-api-key: <key>`; undefined when neither is sent. */
export function keyFromHeaders(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization
  if (typeof authorization === 'string') return authorization.replace(/^Bearer\s+/i, '').trim()
  const apiKey = headers['x-api-key']
  return typeof apiKey === 'string' ? apiKey.trim() : undefined
}

/**
 * Counts failed authentications per subject (a client address, a key
 * prefix) in fixed windows. Past the limit, an attempt that fails is told
 * 429 with the seconds to wait instead of 401; an attempt with a valid key
 * is still served, so a client cannot lock others out of their own address
 * or key. (Keys carry 192 random bits: the limiter slows a misbehaving
 * client and tells it when to come back; guessing was never the risk.)
 * Counters expire one by one; past `maxSubjects`, the oldest are dropped.
 */
export class FailedAuthLimiter {
  readonly #windows = new Map<string, { count: number; until: number }>()
  readonly limit: number
  readonly #windowMs: number
  readonly #maxSubjects: number
  readonly #now: () => number

  constructor(options: { limit?: number; windowMs?: number; maxSubjects?: number; now?: () => number } = {}) {
    this.limit = options.limit ?? 20
    this.#windowMs = options.windowMs ?? 60_000
    this.#maxSubjects = options.maxSubjects ?? 10_000
    this.#now = options.now ?? Date.now
  }

  /** Seconds until none of `subjects` is over the limit; 0 when none is. */
  retryAfter(subjects: string[]): number {
    const now = this.#now()
    let wait = 0
    for (const subject of subjects) {
      const w = this.#windows.get(subject)
      if (w && w.until > now && w.count >= this.limit) wait = Math.max(wait, w.until - now)
    }
    return Math.ceil(wait / 1000)
  }

  /** Counts one failure against each subject. */
  fail(subjects: string[]): void {
    const now = this.#now()
    for (const subject of subjects) {
      const w = this.#windows.get(subject)
      if (w && w.until > now) w.count++
      else {
        // Re-inserted, so the map stays in the order the windows end in.
        this.#windows.delete(subject)
        this.#windows.set(subject, { count: 1, until: now + this.#windowMs })
      }
    }
    this.#evict(now)
  }

  /** How many subjects are being counted. */
  get size(): number {
    return this.#windows.size
  }

  #evict(now: number): void {
    for (const [subject, w] of this.#windows) {
      if (w.until > now && this.#windows.size <= this.#maxSubjects) break
      this.#windows.delete(subject)
    }
  }

  /** 429 for an attempt that failed while over the limit, else null (then count it and answer 401). */
  refusal(subjects: string[]): DocketError | null {
    const seconds = this.retryAfter(subjects)
    if (seconds === 0) return null
    return new DocketError(
      'RATE_LIMITED',
      `too many failed authentications from this address or for this key; try again in ${seconds} s (a valid key is still accepted)`,
      { retryAfterSeconds: seconds },
    )
  }
}

/** The subjects a failed attempt counts against: its address, and the key prefix it claimed. */
export function limiterSubjects(address: string, key: string | undefined): string[] {
  const prefix = key ? keyPrefix(key) : null
  return prefix ? [`address:${address}`, `prefix:${prefix}`] : [`address:${address}`]
}

/**
 * Records when keys are used without a write per request: a key's
 * `last_used_at` is written at most once per `everyMs` by this process, in
 * the background (a failed write is tried again on the key's next use).
 */
export class KeyUsage {
  readonly #marked = new Map<string, number>()

  constructor(
    private readonly docket: Docket,
    private readonly everyMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  used(keyId: string): void {
    const now = this.now()
    const last = this.#marked.get(keyId)
    if (last !== undefined && now - last < this.everyMs) return
    this.#marked.delete(keyId)
    this.#marked.set(keyId, now)
    for (const [id, at] of this.#marked) {
      if (now - at < this.everyMs) break
      if (id !== keyId) this.#marked.delete(id)
    }
    Promise.resolve()
      .then(() => accessOf(this.docket).markApiKeyUsed(keyId))
      .catch(() => this.#marked.delete(keyId))
  }
}

/** What identifying a caller needs; one per app. */
export interface Authenticator {
  docket: Docket
  sessions: Sessions
  limiter: FailedAuthLimiter
  usage: KeyUsage
  /** Page origins besides this server's own allowed to make changes with the session cookie. */
  allowedOrigins: string[]
  /** This server's own origin, when pinned (AppOptions.publicUrl). */
  publicUrl?: string
}

/**
 * A failed authentication, as the caller is told: counted, and 401; or,
 * when the address or key prefix is over the limit, 429. Other errors pass.
 */
export function failedAuthentication(
  auth: Authenticator,
  address: string,
  key: string | undefined,
  error: unknown,
): unknown {
  if (!(error instanceof DocketError && error.code === 'UNAUTHENTICATED')) return error
  const subjects = limiterSubjects(address, key)
  const refusal = auth.limiter.refusal(subjects)
  if (refusal) return refusal
  auth.limiter.fail(subjects)
  return error
}

/**
 * Who calls: the key in the headers, else the session in the cookie. A
 * change made with the cookie must come from our page with the session's
 * CSRF token. A cookie that no longer opens a session is cleared.
 */
/**
 * How a long-lived response (the live feed) asks, now and then, whether the
 * credential it was opened with still opens it: false once its key is
 * revoked or its session has ended. A database that cannot answer is not a
 * no: the stream stays open.
 */
export function credentialCheck(auth: Authenticator, request: FastifyRequest): () => Promise<boolean> {
  const key = keyFromHeaders(request.headers)
  const sessionId = key === undefined ? sessionIdOf(request) : undefined
  const check =
    sessionId === undefined
      ? async () => key !== undefined && (await accessOf(auth.docket).findApiKey(hashKey(key))) !== null
      : () => auth.sessions.find(sessionId).then(() => true)
  return () => check().catch((error) => !isDocketError(error, 'UNAUTHENTICATED'))
}

export async function identify(
  auth: Authenticator,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<Principal> {
  const key = keyFromHeaders(request.headers)
  const sessionId = key === undefined ? sessionIdOf(request) : undefined
  let info: ApiKeyInfo
  try {
    if (sessionId === undefined) info = await findKey(auth.docket, key)
    else {
      const session = await auth.sessions.find(sessionId).catch((error) => {
        // Only a session that has really ended is cleared: a database blip must not sign anyone out.
        if (isDocketError(error, 'UNAUTHENTICATED')) clearSessionCookies(reply, request.protocol === 'https')
        throw error
      })
      if (isUnsafe(request.method)) {
        checkOrigin(request, auth.allowedOrigins, true, auth.publicUrl)
        checkCsrf(session, request.headers['x-csrf-token'])
      }
      info = session.key
    }
  } catch (error) {
    throw failedAuthentication(auth, request.ip, key, error)
  }
  auth.usage.used(info.id)
  return principalOf(info)
}
