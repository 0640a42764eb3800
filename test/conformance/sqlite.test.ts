/** The conformance suite on SQLite: a fresh database file in a temporary directory. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { conformanceSuite } from './suite.js'

conformanceSuite('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'docket-conformance-'))
  return {
    url: `file:${join(dir, 'docket.db')}`,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  }
})
