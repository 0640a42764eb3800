/**
 * The conformance suite on PostgreSQL: a fresh schema on the server that
 * test/support/postgres.ts finds or starts. It never skips: with no server
 * to be had, the run fails.
 */
import { freshPostgresSchema } from '../support/postgres.js'
import { conformanceSuite } from './suite.js'

conformanceSuite('postgres', async () => {
  const pg = await freshPostgresSchema()
  return { url: pg.url, cleanup: () => pg.drop() }
})
