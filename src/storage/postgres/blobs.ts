/** Artifact bytes in the database: a blob row per file and its chunks (migration 0005). */
import type { BlobStore } from '../store.js'
import type { PgContext } from './db.js'

/** How long an unfinished blob may sit before the next upload deletes it: longer than any upload takes. */
const UNFINISHED_TTL = '1 day'

export function postgresBlobs(ctx: PgContext): BlobStore {
  return {
    async startBlob(key) {
      await ctx.query(
        `DELETE FROM artifact_blobs WHERE stored_at IS NULL AND created_at < now() - interval '${UNFINISHED_TTL}'`,
      )
      await ctx.query('INSERT INTO artifact_blobs (storage_key) VALUES ($1)', [key])
    },
    async writeChunk(key, seq, data) {
      await ctx.query('INSERT INTO artifact_chunks (storage_key, seq, data) VALUES ($1, $2, $3)', [
        key,
        seq,
        data,
      ])
    },
    async finishBlob(key, size, sha256) {
      await ctx.query(
        'UPDATE artifact_blobs SET stored_at = now(), size = $2, sha256 = $3 WHERE storage_key = $1',
        [key, size, sha256],
      )
    },
    async readChunk(key, seq) {
      const rows = await ctx.query<{ data: Buffer }>(
        `SELECT c.data FROM artifact_chunks c JOIN artifact_blobs b USING (storage_key)
         WHERE c.storage_key = $1 AND c.seq = $2 AND b.stored_at IS NOT NULL`,
        [key, seq],
      )
      return rows[0]?.data ?? null
    },
    async hasBlob(key) {
      const rows = await ctx.query(
        'SELECT 1 FROM artifact_blobs WHERE storage_key = $1 AND stored_at IS NOT NULL',
        [key],
      )
      return rows.length > 0
    },
    async deleteBlob(key) {
      await ctx.query('DELETE FROM artifact_blobs WHERE storage_key = $1', [key])
    },
    async listBlobs() {
      const rows = await ctx.query<{ storage_key: string; size: number; partial: boolean }>(
        `SELECT b.storage_key, coalesce(sum(length(c.data)), 0)::bigint AS size, b.stored_at IS NULL AS partial
         FROM artifact_blobs b LEFT JOIN artifact_chunks c USING (storage_key)
         GROUP BY b.storage_key ORDER BY 1`,
      )
      return rows.map((r) => ({ key: r.storage_key, size: Number(r.size), partial: r.partial }))
    },
  }
}
