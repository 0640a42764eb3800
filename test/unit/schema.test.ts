/** The schema guard's rules (core/schema.ts): what is pending, unknown, stale or newer, and what is refused. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type CodeSchema,
  compareVersions,
  functionsToApply,
  isUpToDate,
  latestVersion,
  planSchema,
  schemaRefusal,
} from '../../src/core/schema.js'

const code: CodeSchema = {
  migrations: [
    { version: 1, name: 'one' },
    { version: 2, name: 'two' },
    { version: 3, name: 'three' },
  ],
  functions: [
    { name: 'claim', sha256: 'c2' },
    { name: 'complete', sha256: 'k1' },
  ],
  docketVersion: '1.4.0',
}
const current = [
  { name: 'claim', sha256: 'c2', docketVersion: '1.4.0' },
  { name: 'complete', sha256: 'k1', docketVersion: '1.3.0' },
]

describe('schema plan', () => {
  it('a database with every migration and function is up to date, and nothing is refused', () => {
    const plan = planSchema(code, { appliedVersions: [1, 2, 3], functions: current })
    assert.ok(isUpToDate(plan))
    assert.equal(plan.databaseVersion, 3)
    assert.deepEqual(functionsToApply(plan), [])
    assert.equal(schemaRefusal(plan, code, false), null)
  })

  it('pending migrations are the known ones not applied, in order; an empty database has them all', () => {
    assert.deepEqual(
      planSchema(code, { appliedVersions: [1], functions: [] }).pending.map((m) => m.version),
      [2, 3],
    )
    const empty = planSchema(code, { appliedVersions: [], functions: [] })
    assert.equal(empty.databaseVersion, 0)
    assert.deepEqual(functionsToApply(empty), ['claim', 'complete'], 'missing functions are written')
  })

  it('a function with another checksum is stale, unless a newer Docket wrote it; then it is left alone', () => {
    const plan = planSchema(code, {
      appliedVersions: [1, 2, 3],
      functions: [
        { name: 'claim', sha256: 'c1', docketVersion: '1.3.9' },
        { name: 'complete', sha256: 'k2', docketVersion: '1.10.0' },
      ],
    })
    assert.deepEqual(
      plan.functions.map((f) => [f.name, f.state, f.recordedBy]),
      [
        ['claim', 'stale', '1.3.9'],
        ['complete', 'newer', '1.10.0'],
      ],
    )
    assert.deepEqual(functionsToApply(plan), ['claim'])
  })
})

describe('schema refusal', () => {
  it('a migration this code does not know is SCHEMA_NEWER, with or without migrate, naming both versions', () => {
    const plan = planSchema(code, { appliedVersions: [1, 2, 3, 4, 5], functions: current })
    for (const migrate of [true, false]) {
      const error = schemaRefusal(plan, code, migrate)
      assert.equal(error?.code, 'SCHEMA_NEWER')
      assert.match(
        error!.message,
        /at migration 5, newer than this Docket 1\.4\.0 knows \(it knows up to 3\)/,
      )
      assert.deepEqual(error!.details, { databaseVersion: 5, codeVersion: 3, unknownVersions: [4, 5] })
    }
  })

  it('a schema that is behind is migrated when migrate is allowed, else SCHEMA_OLDER naming what is behind', () => {
    const plan = planSchema(code, {
      appliedVersions: [1],
      functions: [{ name: 'claim', sha256: 'old', docketVersion: '1.0.0' }, current[1]!],
    })
    assert.equal(schemaRefusal(plan, code, true), null)
    const error = schemaRefusal(plan, code, false)
    assert.equal(error?.code, 'SCHEMA_OLDER')
    assert.match(error!.message, /2 migration\(s\) pending \(2…3\); function\(s\) out of date: claim/)
    assert.match(error!.message, /run `docket migrate`/)
    assert.deepEqual(error!.details, {
      databaseVersion: 1,
      codeVersion: 3,
      pending: [2, 3],
      staleFunctions: ['claim'],
    })
  })

  it('versions compare numerically, part by part, a pre-release tag ignored', () => {
    assert.ok(compareVersions('1.10.0', '1.9.9') > 0)
    assert.ok(compareVersions('0.1.0', '0.1.1') < 0)
    assert.equal(compareVersions('2.0.0-beta.1', '2.0.0'), 0)
    assert.equal(compareVersions('1.2', '1.2.0'), 0)
    assert.equal(latestVersion(code), 3)
    assert.equal(latestVersion({ ...code, migrations: [] }), 0)
  })
})
