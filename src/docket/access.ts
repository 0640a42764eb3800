/**
 * API keys and dashboard sessions, as the server keeps them: only hashes of
 * keys and session ids reach the database (server/auth.ts and
 * server/session.ts make and hash them). The server reaches this through
 * server/internals.ts (`accessOf(docket)`); each record is checked here before it is written.
 */
import { z } from 'zod'
import type {
  ApiKeyInfo,
  ApiKeyRecord,
  SessionInfo,
  SessionRecord,
  ViewerTokenInfo,
  ViewerTokenRecord,
} from '../core/access.js'
import { isJobId } from '../core/bounds.js'
import { label, parse } from '../core/options.js'
import type { Store } from '../storage/store.js'
import { checkId, checkJobId } from './arguments.js'

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 digest in hex')
const apiKeyRecord = z.strictObject({
  id: z.uuid(),
  name: label,
  role: z.enum(['admin', 'user', 'worker']),
  prefix: z.string().min(1).max(20),
  hash: sha256Hex,
})
const sessionRecord = z.strictObject({
  idHash: sha256Hex,
  keyId: z.uuid(),
  csrfToken: z.string().min(16).max(200),
  ttlMs: z
    .number()
    .int()
    .min(1)
    .max(366 * 24 * 3600_000),
})

/** A viewer token lives from a minute to a week. */
export const VIEWER_TOKEN_TTL = { min: 60_000, max: 7 * 24 * 3600_000, default: 3600_000 } as const
const viewerTokenRecord = z.strictObject({
  hash: sha256Hex,
  jobId: z.uuid(),
  ttlMs: z.number().int().min(VIEWER_TOKEN_TTL.min).max(VIEWER_TOKEN_TTL.max),
})

/** A lookup by a hash that cannot be one finds nothing, as an unknown one does. */
const isHash = (hash: unknown): hash is string => sha256Hex.safeParse(hash).success

export class Access {
  readonly #store: () => Store

  constructor(store: () => Store) {
    this.#store = store
  }

  /**
   * For each job id that is a job, the key name that registered the worker of
   * its latest attempt (null: none did): lease-binding.ts binds a lease to it.
   * Ids that are not job ids are left out, as missing jobs are.
   */
  async jobWorkerRegistrants(jobIds: string[]): Promise<Map<string, string | null>> {
    const ids = [...new Set(jobIds.filter(isJobId).map((id) => id.toLowerCase()))]
    return ids.length === 0 ? new Map() : this.#store().jobWorkerRegistrants(ids)
  }

  async createApiKey(key: ApiKeyRecord): Promise<ApiKeyInfo> {
    return this.#store().createApiKey(parse(apiKeyRecord, key, 'API key'))
  }

  /** The live (not revoked) key with this hash, or null. */
  async findApiKey(hash: string): Promise<ApiKeyInfo | null> {
    return isHash(hash) ? this.#store().findApiKey(hash) : null
  }

  async listApiKeys(): Promise<ApiKeyInfo[]> {
    return this.#store().listApiKeys()
  }

  /** Revokes a key, and with it every session signed in with it; false if there is no live key with this id. */
  async revokeApiKey(id: string): Promise<boolean> {
    return this.#store().revokeApiKey(checkId(id, 'API key'))
  }

  async markApiKeyUsed(id: string): Promise<void> {
    await this.#store().markApiKeyUsed(checkId(id, 'API key'))
  }

  async createSession(session: SessionRecord): Promise<SessionInfo> {
    return this.#store().createSession(parse(sessionRecord, session, 'session'))
  }

  /** The live session with this id hash (its key not revoked, not expired), or null. */
  async findSession(idHash: string): Promise<SessionInfo | null> {
    return isHash(idHash) ? this.#store().findSession(idHash) : null
  }

  async deleteSession(idHash: string): Promise<void> {
    if (isHash(idHash)) await this.#store().deleteSession(idHash)
  }

  /** Stores a read-only token for watching one job (server/viewer.ts makes and hashes it). */
  async createViewerToken(token: ViewerTokenRecord): Promise<ViewerTokenInfo> {
    const t = parse(viewerTokenRecord, token, 'viewer token')
    return this.#store().createViewerToken({ ...t, jobId: t.jobId.toLowerCase() })
  }

  /** Ends every live viewer token of the job (its open feeds close at their next check); returns how many. */
  async revokeViewerTokens(jobId: string): Promise<number> {
    return this.#store().revokeViewerTokens(checkJobId(jobId))
  }

  /** The job a live viewer token with this hash opens, or null (unknown or expired). */
  async findViewerToken(hash: string): Promise<ViewerTokenInfo | null> {
    return isHash(hash) ? this.#store().findViewerToken(hash) : null
  }
}
