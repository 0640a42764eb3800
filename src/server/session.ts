/**
 * Browser sessions for the dashboard: the API key is kept in an httpOnly,
 * SameSite=Strict cookie (scripts on the page never see it), and every
 * state-changing request made with the cookie must carry a CSRF token
 * (x-csrf-token) derived from the key with a secret of this process.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { DocketError } from '../core/errors.js'
import { hashKey } from './auth.js'

export const SESSION_COOKIE = 'docket_key'

export class Sessions {
  readonly #secret = randomBytes(32)

  csrfToken(key: string): string {
    return createHmac('sha256', this.#secret).update(hashKey(key)).digest('base64url')
  }

  checkCsrf(key: string, token: string | undefined): void {
    const expected = Buffer.from(this.csrfToken(key))
    const given = Buffer.from(token ?? '')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new DocketError(
        'FORBIDDEN',
        'missing or wrong x-csrf-token header (GET /api/v1/session gives the token)',
      )
    }
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return decodeURIComponent(v.join('='))
  }
  return undefined
}

export function sessionCookie(key: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(key)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${7 * 24 * 3600}${secure ? '; Secure' : ''}`
}

export const clearedCookie = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`
