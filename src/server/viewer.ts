/**
 * Viewer tokens: a job's owner (or an admin) mints a read-only, expiring
 * token for one job, so that an application can show its own customer
 * "analysing page 3 of 12" without proxying the feed or handing out a key.
 * The token opens that job's narrow view (GET /jobs/{id}/view?token=,
 * views.ts viewerJobView) and that job's live feed, narrowed alike (GET
 * /events?token=, SSE or WebSocket), and nothing else: any
 * other job is NOT_FOUND exactly as a missing one, any other route needs a
 * key. Only its hash is stored; it is never logged (query strings are not).
 */
import { randomBytes } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { DocketError } from '../core/errors.js'
import { VIEWER_TOKEN_TTL } from '../docket/access.js'
import type { Docket } from '../docket.js'
import { type Authenticator, failedAuthentication, hashKey, keyFromHeaders, type Principal } from './auth.js'
import { accessOf } from './internals.js'

export { VIEWER_TOKEN_TTL }

/** Every viewer token starts so, which tells it from a lease token in the same `?token=` slot. */
const PREFIX = 'dv_'

export async function mintViewerToken(
  docket: Docket,
  jobId: string,
  ttlMs: number = VIEWER_TOKEN_TTL.default,
): Promise<{ token: string; expiresAt: Date }> {
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`
  const { expiresAt } = await accessOf(docket).createViewerToken({ hash: hashKey(token), jobId, ttlMs })
  return { token, expiresAt }
}

/** The viewer token a request carries instead of a key (`?token=dv_…`), if any. */
export function viewerTokenOf(request: FastifyRequest): string | undefined {
  if (keyFromHeaders(request.headers) !== undefined) return undefined
  const token = (request.query as { token?: unknown } | undefined)?.token
  return typeof token === 'string' && token.startsWith(PREFIX) ? token : undefined
}

/** The principal of a live viewer token: it sees one job. UNAUTHENTICATED (counted, as a bad key is) otherwise. */
export async function identifyViewer(
  auth: Authenticator,
  request: FastifyRequest,
  token: string,
): Promise<Principal> {
  const found = token.length < 200 ? await accessOf(auth.docket).findViewerToken(hashKey(token)) : null
  if (!found) {
    throw failedAuthentication(
      auth,
      request.ip,
      undefined,
      new DocketError(
        'UNAUTHENTICATED',
        'the viewer token is not valid (unknown or expired): ask for a new one',
      ),
    )
  }
  return { name: `viewer:${found.jobId}`, role: 'viewer', keyId: null, jobId: found.jobId }
}

/** The viewer's credentialCheck (auth.ts): false once the token has expired. */
export function viewerTokenCheck(auth: Authenticator, token: string): () => Promise<boolean> {
  return () =>
    accessOf(auth.docket)
      .findViewerToken(hashKey(token))
      .then(
        (found) => found !== null,
        () => true,
      )
}
