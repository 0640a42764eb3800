/** Dashboard sessions: rows keyed by the hash of the cookie's id, live until they expire or their key is revoked. */
import { rowToSession, SESSION_SELECT } from '../rows.js'
import type { SessionInfo, SessionRecord, ViewerTokenInfo, ViewerTokenRecord } from '../store.js'
import { NOW } from './clock.js'
import { decode, type PgContext } from './db.js'

export async function createSession(ctx: PgContext, s: SessionRecord): Promise<SessionInfo> {
  return ctx.tx(async (c) => {
    const now = ctx.clockNow()
    await c.query(`DELETE FROM sessions WHERE expires_at <= ${NOW(1)}`, [now])
    await c.query(
      `INSERT INTO sessions (id_hash, key_id, csrf_token, created_at, expires_at)
       VALUES ($1, $2, $3, ${NOW(5)}, ${NOW(5)} + $4 * interval '1 millisecond')`,
      [s.idHash, s.keyId, s.csrfToken, s.ttlMs, now],
    )
    const [row] = await c.query(`${SESSION_SELECT} WHERE s.id_hash = $1`, [s.idHash])
    return rowToSession(row!, decode)
  })
}

export async function findSession(ctx: PgContext, idHash: string): Promise<SessionInfo | null> {
  const [row] = await ctx.query(
    `${SESSION_SELECT} WHERE s.id_hash = $1 AND s.expires_at > ${NOW(2)} AND k.revoked_at IS NULL`,
    [idHash, ctx.clockNow()],
  )
  return row ? rowToSession(row, decode) : null
}

export async function deleteSession(ctx: PgContext, idHash: string): Promise<void> {
  await ctx.query('DELETE FROM sessions WHERE id_hash = $1', [idHash])
}

export async function createViewerToken(ctx: PgContext, t: ViewerTokenRecord): Promise<ViewerTokenInfo> {
  return ctx.tx(async (c) => {
    const now = ctx.clockNow()
    await c.query(`DELETE FROM viewer_tokens WHERE expires_at <= ${NOW(1)}`, [now])
    const [row] = await c.query<{ expires_at: Date }>(
      `INSERT INTO viewer_tokens (token_hash, job_id, created_at, expires_at)
       VALUES ($1, $2, ${NOW(4)}, ${NOW(4)} + $3 * interval '1 millisecond') RETURNING expires_at`,
      [t.hash, t.jobId, t.ttlMs, now],
    )
    return { jobId: t.jobId, expiresAt: decode.date(row!.expires_at) }
  })
}

export async function revokeViewerTokens(ctx: PgContext, jobId: string): Promise<number> {
  const rows = await ctx.query(
    `DELETE FROM viewer_tokens WHERE job_id = $1 AND expires_at > ${NOW(2)} RETURNING job_id`,
    [jobId, ctx.clockNow()],
  )
  return rows.length
}

export async function findViewerToken(ctx: PgContext, hash: string): Promise<ViewerTokenInfo | null> {
  const [row] = await ctx.query<{ job_id: string; expires_at: Date }>(
    `SELECT job_id, expires_at FROM viewer_tokens WHERE token_hash = $1 AND expires_at > ${NOW(2)}`,
    [hash, ctx.clockNow()],
  )
  return row ? { jobId: row.job_id, expiresAt: decode.date(row.expires_at) } : null
}
