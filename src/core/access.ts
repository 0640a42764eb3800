/** Who may use the server: API keys, dashboard sessions and viewer tokens, as records (only hashes are stored). */

export type Role = 'admin' | 'user' | 'worker'

export interface ApiKeyRecord {
  id: string
  /** The principal's name: a user's jobs are those whose owner is this name. */
  name: string
  role: Role
  /** The first characters of the key, shown in listings so a key can be recognised. */
  prefix: string
  /** sha256 of the whole key, hex. The key itself is never stored. */
  hash: string
}

export interface ApiKeyInfo extends Omit<ApiKeyRecord, 'hash'> {
  createdAt: Date
  /** When the key last authenticated a request, to the minute (servers write it at most once a minute). */
  lastUsedAt: Date | null
  revokedAt: Date | null
}

/** A dashboard sign-in. The session id sits in the browser's cookie; only its hash is stored. */
export interface SessionRecord {
  /** sha256 of the session id, hex. */
  idHash: string
  /** The API key the session signed in with: revoking the key ends the session. */
  keyId: string
  /** The token every change made with this session must carry (x-csrf-token). */
  csrfToken: string
  /** How long the session lives, from now by the database clock. */
  ttlMs: number
}

/** A read-only token for watching one job; only its hash is stored. */
export interface ViewerTokenRecord {
  /** sha256 of the token, hex. */
  hash: string
  jobId: string
  /** How long it lives, from now by the database clock. */
  ttlMs: number
}

export interface ViewerTokenInfo {
  jobId: string
  expiresAt: Date
}

export interface SessionInfo {
  key: ApiKeyInfo
  csrfToken: string
  expiresAt: Date
}
