/** Wiping a system's storage between repetitions. Loaded by every adapter, so it loads nothing eagerly. */
import { rmSync } from 'node:fs'

export async function dropSchema(url: string, schema: string): Promise<void> {
  // Imported here, not at the top: a worker process of a peer must not load Docket's pg as well.
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  } finally {
    await client.end()
  }
}

export function removeSqlite(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
}
