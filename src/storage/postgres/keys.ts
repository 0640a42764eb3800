import { conflict } from '../../core/errors.js'
import { API_KEY_SELECT, rowToApiKey } from '../rows.js'
import type { ApiKeyInfo, ApiKeyRecord } from '../store.js'
import { NOW } from './clock.js'
import { decode, type PgContext } from './db.js'

type Row = Record<string, unknown>
const toInfo = (r: Row) => rowToApiKey(r, decode)

export async function createApiKey(ctx: PgContext, key: ApiKeyRecord): Promise<ApiKeyInfo> {
  return ctx.tx(async (c) => {
    await c.query(
      `INSERT INTO principals (id, name, role, created_at) VALUES ($1, $2, $3, ${NOW(4)})
       ON CONFLICT (name) DO NOTHING`,
      [key.id, key.name, key.role, ctx.clockNow()],
    )
    const [principal] = await c.query('SELECT id, role FROM principals WHERE name = $1', [key.name])
    if (principal!.role !== key.role) {
      throw conflict(`'${key.name}' already has the role ${principal!.role}`, {
        name: key.name,
        role: principal!.role,
      })
    }
    await c.query(
      `INSERT INTO api_keys (id, principal_id, prefix, hash, created_at) VALUES ($1, $2, $3, $4, ${NOW(5)})`,
      [key.id, principal!.id, key.prefix, key.hash, ctx.clockNow()],
    )
    const [row] = await c.query(`${API_KEY_SELECT} WHERE k.id = $1`, [key.id])
    return toInfo(row!)
  })
}

export async function findApiKey(ctx: PgContext, hash: string): Promise<ApiKeyInfo | null> {
  const [row] = await ctx.query(`${API_KEY_SELECT} WHERE k.hash = $1 AND k.revoked_at IS NULL`, [hash])
  return row ? toInfo(row) : null
}

export async function listApiKeys(ctx: PgContext): Promise<ApiKeyInfo[]> {
  return (await ctx.query(`${API_KEY_SELECT} ORDER BY k.created_at`)).map(toInfo)
}

export async function revokeApiKey(ctx: PgContext, id: string): Promise<boolean> {
  return ctx.tx(async (c) => {
    const rows = await c.query(
      `UPDATE api_keys SET revoked_at = ${NOW(2)} WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
      [id, ctx.clockNow()],
    )
    if (rows.length === 1) await c.query('DELETE FROM sessions WHERE key_id = $1', [id])
    return rows.length === 1
  })
}

export async function markApiKeyUsed(ctx: PgContext, id: string): Promise<void> {
  await ctx.query(`UPDATE api_keys SET last_used_at = ${NOW(2)} WHERE id = $1`, [id, ctx.clockNow()])
}
