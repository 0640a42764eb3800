import { conflict } from '../../core/errors.js'
import { API_KEY_SELECT, rowToApiKey } from '../rows.js'
import type { ApiKeyInfo, ApiKeyRecord } from '../store.js'
import { decode, type SqliteContext } from './db.js'

type Row = Record<string, unknown>
const toInfo = (r: Row) => rowToApiKey(r, decode)

export function createApiKey(ctx: SqliteContext, key: ApiKeyRecord): ApiKeyInfo {
  return ctx.tx(() => {
    const now = ctx.now()
    const principal = ctx.stmt('SELECT id, role FROM principals WHERE name = ?').get(key.name) as
      | Row
      | undefined
    if (principal && principal.role !== key.role) {
      throw conflict(`'${key.name}' already has the role ${principal.role}`, {
        name: key.name,
        role: principal.role,
      })
    }
    const principalId = principal ? String(principal.id) : key.id
    if (!principal) {
      ctx
        .stmt('INSERT INTO principals (id, name, role, created_at) VALUES (?, ?, ?, ?)')
        .run(principalId, key.name, key.role, now)
    }
    ctx
      .stmt('INSERT INTO api_keys (id, principal_id, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(key.id, principalId, key.prefix, key.hash, now)
    return toInfo(ctx.stmt(`${API_KEY_SELECT} WHERE k.id = ?`).get(key.id) as Row)
  })
}

export function findApiKey(ctx: SqliteContext, hash: string): ApiKeyInfo | null {
  const row = ctx.stmt(`${API_KEY_SELECT} WHERE k.hash = ? AND k.revoked_at IS NULL`).get(hash) as
    | Row
    | undefined
  return row ? toInfo(row) : null
}

export function listApiKeys(ctx: SqliteContext): ApiKeyInfo[] {
  return (ctx.stmt(`${API_KEY_SELECT} ORDER BY k.created_at`).all() as Row[]).map(toInfo)
}

export function revokeApiKey(ctx: SqliteContext, id: string): boolean {
  return ctx.tx(() => {
    const revoked =
      ctx.stmt('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(ctx.now(), id)
        .changes === 1
    if (revoked) ctx.stmt('DELETE FROM sessions WHERE key_id = ?').run(id)
    return revoked
  })
}

export function markApiKeyUsed(ctx: SqliteContext, id: string): void {
  ctx.stmt('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(ctx.now(), id)
}
