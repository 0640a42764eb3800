/** Dashboard sessions: rows keyed by the hash of the cookie's id, live until they expire or their key is revoked. */
import { rowToSession, SESSION_SELECT } from '../rows.js'
import type { SessionInfo, SessionRecord, ViewerTokenInfo, ViewerTokenRecord } from '../store.js'
import { decode, type SqliteContext } from './db.js'

type Row = Record<string, unknown>

export function createSession(ctx: SqliteContext, s: SessionRecord): SessionInfo {
  return ctx.tx(() => {
    const now = ctx.now()
    ctx.stmt('DELETE FROM sessions WHERE expires_at <= ?').run(now)
    ctx
      .stmt(
        'INSERT INTO sessions (id_hash, key_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(s.idHash, s.keyId, s.csrfToken, now, now + s.ttlMs)
    return rowToSession(ctx.stmt(`${SESSION_SELECT} WHERE s.id_hash = ?`).get(s.idHash) as Row, decode)
  })
}

export function findSession(ctx: SqliteContext, idHash: string): SessionInfo | null {
  const row = ctx
    .stmt(`${SESSION_SELECT} WHERE s.id_hash = ? AND s.expires_at > ? AND k.revoked_at IS NULL`)
    .get(idHash, ctx.now()) as Row | undefined
  return row ? rowToSession(row, decode) : null
}

export function deleteSession(ctx: SqliteContext, idHash: string): void {
  ctx.stmt('DELETE FROM sessions WHERE id_hash = ?').run(idHash)
}

export function createViewerToken(ctx: SqliteContext, t: ViewerTokenRecord): ViewerTokenInfo {
  return ctx.tx(() => {
    const now = ctx.now()
    ctx.stmt('DELETE FROM viewer_tokens WHERE expires_at <= ?').run(now)
    ctx
      .stmt('INSERT INTO viewer_tokens (token_hash, job_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
      .run(t.hash, t.jobId, now, now + t.ttlMs)
    return { jobId: t.jobId, expiresAt: new Date(now + t.ttlMs) }
  })
}

export function revokeViewerTokens(ctx: SqliteContext, jobId: string): number {
  return ctx.stmt('DELETE FROM viewer_tokens WHERE job_id = ? AND expires_at > ?').run(jobId, ctx.now())
    .changes
}

export function findViewerToken(ctx: SqliteContext, hash: string): ViewerTokenInfo | null {
  const row = ctx
    .stmt('SELECT job_id, expires_at FROM viewer_tokens WHERE token_hash = ? AND expires_at > ?')
    .get(hash, ctx.now()) as Row | undefined
  return row ? { jobId: String(row.job_id), expiresAt: decode.date(row.expires_at) } : null
}
