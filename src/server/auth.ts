/**
 * API keys: random, shown once, stored as a sha256 hash. A key belongs to a
 * principal with a role: `admin` (everything), `user` (their own jobs,
 * batches and artifacts), `worker` (claim and report only).
 */
import { createHash, randomBytes } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'
import { DocketError } from '../core/errors.js'
import type { Docket } from '../docket.js'
import type { ApiKeyInfo, Role } from '../storage/store.js'

export interface Principal {
  name: string
  role: Role
  keyId: string | null
}

export const ANONYMOUS_ADMIN: Principal = { name: 'local', role: 'admin', keyId: null }

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex')

/** Creates a key and returns it with its record. The key is in the return value only: store it now. */
export async function createKey(
  docket: Docket,
  name: string,
  role: Role,
): Promise<{ key: string; info: ApiKeyInfo }> {
  const secret = randomBytes(24).toString('base64url')
  const prefix = `dk_${secret.slice(0, 6)}`
  const key = `${prefix}_${secret.slice(6)}`
  const info = await docket.store.createApiKey({ id: uuidv7(), name, role, prefix, hash: hashKey(key) })
  return { key, info }
}

/** Reads `Authorization: Bearer <key>` (or `x-api-key`) and finds its principal. */
export async function authenticate(docket: Docket, header: string | undefined): Promise<Principal> {
  if (!header)
    throw new DocketError('UNAUTHENTICATED', 'an API key is required: send Authorization: Bearer <key>')
  const key = header.replace(/^Bearer\s+/i, '').trim()
  const info = key.length > 0 && key.length < 200 ? await docket.store.findApiKey(hashKey(key)) : null
  if (!info) throw new DocketError('UNAUTHENTICATED', 'the API key is not valid (unknown or revoked)')
  return { name: info.name, role: info.role, keyId: info.id }
}

/**
 * Counts failed authentications per client address; past the limit within
 * the window, further attempts are refused with 429 before any lookup.
 */
export class FailedAuthLimiter {
  #failures = new Map<string, { count: number; since: number }>()
  constructor(
    private readonly limit = 20,
    private readonly windowMs = 60_000,
  ) {}

  check(address: string): void {
    const entry = this.#failures.get(address)
    if (!entry || Date.now() - entry.since > this.windowMs) return
    if (entry.count >= this.limit) {
      throw new DocketError(
        'RATE_LIMITED',
        'too many failed authentications from this address; try again in a minute',
      )
    }
  }

  fail(address: string): void {
    const now = Date.now()
    const entry = this.#failures.get(address)
    if (!entry || now - entry.since > this.windowMs) this.#failures.set(address, { count: 1, since: now })
    else entry.count++
    if (this.#failures.size > 10_000) this.#failures.clear()
  }
}
