/**
 * Settings recorded in the database for code that runs outside Docket's
 * processes (migration 0019): add_job, called from the application's own SQL,
 * reads its payload limit here.
 */
import type { PgContext } from './db.js'

/**
 * Records `bytes` as the database's payload limit, which add_job then applies
 * (1 MiB while none is recorded). Written only when it changes, so processes
 * that open with the same limit do not contend for the row.
 */
export async function recordPayloadLimit(ctx: PgContext, bytes: number): Promise<void> {
  await ctx.query(
    `INSERT INTO settings (name, value, updated_at) VALUES ('max_payload_bytes', to_jsonb($1::bigint), now())
     ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
     WHERE settings.value IS DISTINCT FROM EXCLUDED.value`,
    [bytes],
  )
}
