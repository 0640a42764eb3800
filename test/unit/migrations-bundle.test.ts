/**
 * The frozen migrations: the committed generated modules are exactly what
 * scripts/build-migrations.mjs makes from the .sql files, versions count
 * 1..n, and a shipped file never changes (shipped.sha256). The script's
 * refusals are exercised on copies of the migration folders.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import {
  buildMigrations,
  DRIVERS,
  driverPaths,
  MigrationRuleError,
  SCRIPT,
  sha256,
} from '../../scripts/build-migrations.mjs'
import { migrations as postgresMigrations } from '../../src/storage/postgres/migrations.js'
import { migrations as sqliteMigrations } from '../../src/storage/sqlite/migrations.js'

const runnerLists = { sqlite: sqliteMigrations, postgres: postgresMigrations }

describe('migrations bundle', () => {
  it(`the committed generated modules and shipped.sha256 files are what \`${SCRIPT}\` makes`, () => {
    for (const output of buildMigrations()) {
      assert.ok(output.current !== null, `${output.path} is missing: run \`${SCRIPT}\` and commit it`)
      assert.ok(output.text === output.current, `${output.path} is stale: run \`${SCRIPT}\` and commit it`)
    }
  })

  for (const driver of DRIVERS) {
    const { dir, shipped } = driverPaths(driver)
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort()

    it(`${driver}: versions count 1..n, each name is its file's, each SQL is its file byte for byte`, () => {
      const list = runnerLists[driver]
      assert.ok(list.length >= 2)
      assert.deepEqual(
        list.map((m) => m.file),
        files,
      )
      list.forEach((m, index) => {
        assert.equal(m.version, index + 1)
        assert.equal(m.file, `${String(m.version).padStart(4, '0')}_${m.name.replaceAll(' ', '_')}.sql`)
        assert.ok(
          m.sql === readFileSync(join(dir, m.file), 'utf8'),
          `${m.file}: bundled SQL differs from the file`,
        )
      })
    })

    it(`${driver}: every migration file is listed in shipped.sha256, in order, with its sha256`, () => {
      const listed = readFileSync(shipped, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const [hash, file] = line.split('  ')
          return { hash, file }
        })
      assert.deepEqual(
        listed.map((l) => l.file),
        files,
        `every .sql file is listed once, in order: run \`${SCRIPT}\``,
      )
      for (const { hash, file } of listed) {
        assert.equal(
          sha256(readFileSync(join(dir, file!), 'utf8')),
          hash,
          `${file} changed after it shipped: put it back and write the change as a new migration`,
        )
      }
    })
  }

  it('migrations 1 and 2 are the SQL existing databases ran: the hashes of the in-code migrations they replaced', () => {
    const firstTwo = (driver: 'sqlite' | 'postgres') =>
      runnerLists[driver].slice(0, 2).map((m) => [m.file, sha256(m.sql)])
    assert.deepEqual(firstTwo('sqlite'), [
      ['0001_initial_schema.sql', 'e7502019a000ffe70ee1bbfbec01b99737147a50cd614a9871eed5e95702a825'],
      ['0002_leadership_terms.sql', '84496679ab5e43dd2c460a6ae816f6ced95bf904fbc11992badeeb28e1fd0411'],
    ])
    assert.deepEqual(firstTwo('postgres'), [
      ['0001_initial_schema.sql', 'afc68d5ff3304f0df6560cea93c8e4207d24c38bb412889f5bebf6647b0cf74e'],
      ['0002_leadership_leases.sql', 'e06b829dd6e1a616aa4f6daa8b32bbc6b7d1fea86ef1b0f10b187f485417aef6'],
    ])
  })
})

describe('build-migrations refuses what would change a shipped migration', () => {
  const made: string[] = []
  after(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true })
  })
  /** A root holding copies of both drivers' migration folders and generated modules. */
  const copyRoot = (): string => {
    const root = mkdtempSync(join(tmpdir(), 'docket-migrations-'))
    made.push(root)
    for (const driver of DRIVERS) {
      const from = driverPaths(driver)
      const to = driverPaths(driver, root)
      cpSync(from.dir, to.dir, { recursive: true })
      cpSync(from.module, to.module)
    }
    return root
  }
  /** The number a new migration of the driver would take, as in its file name: `0004`. */
  const next = (driver: keyof typeof runnerLists, plus = 1) =>
    String(runnerLists[driver].length + plus).padStart(4, '0')
  const refused = (root: string, pattern: RegExp) =>
    assert.throws(
      () => buildMigrations(root),
      (e: unknown) => e instanceof MigrationRuleError && pattern.test(e.message),
    )

  it('a shipped file whose bytes changed, naming it and the way out', () => {
    const root = copyRoot()
    const file = join(driverPaths('sqlite', root).dir, '0001_initial_schema.sql')
    writeFileSync(file, `${readFileSync(file, 'utf8')}-- a comment\n`)
    refused(root, /0001_initial_schema\.sql: changed after it shipped.*new migration/)
  })

  it('a shipped file removed or renamed', () => {
    const root = copyRoot()
    const dir = driverPaths('postgres', root).dir
    const last = postgresMigrations.at(-1)!.file
    const renamed = `${last.slice(0, 5)}renamed_migration.sql`
    unlinkSync(join(dir, last))
    refused(root, new RegExp(`${last.replace('.', '\\.')}: shipped .* but missing`))
    writeFileSync(join(dir, renamed), 'SELECT 1;\n')
    refused(
      root,
      new RegExp(
        `${last.replace('.', '\\.')}: shipped .* but ${renamed.replace('.', '\\.')} is in its place`,
      ),
    )
  })

  it('a gap in the numbers, a badly named file, CR line ends, an empty file', () => {
    const cases: [string, string, RegExp][] = [
      [
        `${next('sqlite', 2)}_skips_one.sql`,
        'SELECT 1;\n',
        new RegExp(`${next('sqlite', 2)}_skips_one\\.sql: expected version ${Number(next('sqlite'))} here`),
      ],
      [
        `${next('sqlite')}-dashes.sql`,
        'SELECT 1;\n',
        new RegExp(`${next('sqlite')}-dashes\\.sql: a migration file is named NNNN_lower_case_words\\.sql`),
      ],
      [
        `${next('sqlite')}_crlf.sql`,
        'SELECT 1;\r\n',
        new RegExp(`${next('sqlite')}_crlf\\.sql: has CR characters`),
      ],
      [`${next('sqlite')}_empty.sql`, '\n', new RegExp(`${next('sqlite')}_empty\\.sql: is empty`)],
    ]
    for (const [file, sql, pattern] of cases) {
      const root = copyRoot()
      writeFileSync(join(driverPaths('sqlite', root).dir, file), sql)
      refused(root, pattern)
    }
  })

  it('a new file is appended to shipped.sha256 and bundled with its text exact, functions pointed at it', async () => {
    const root = copyRoot()
    const paths = driverPaths('postgres', root)
    const placeholder = ['$', '{not interpolated}'].join('')
    const sql = `\n-- \`quoted\`, a \\ backslash, ${placeholder}, $$ dollars $$\nCREATE OR REPLACE FUNCTION claim_jobs() RETURNS void LANGUAGE sql AS $$ SELECT 1 $$;\n`
    const file = `${next('postgres')}_next_claim.sql`
    writeFileSync(join(paths.dir, file), sql)
    const outputs = buildMigrations(root)
    const shipped = outputs.find((o) => o.path === paths.shipped)!
    assert.equal(shipped.text, `${shipped.current}${sha256(sql)}  ${file}\n`)
    const module = outputs.find((o) => o.path === paths.module)!
    assert.ok(
      module.text.includes(`//   claim_jobs: migrations/${file}\n`),
      'claim_jobs points at the new file',
    )
    assert.match(module.text, /\/\/ {3}complete_jobs: migrations\/0001_initial_schema\.sql\n/)
    const generated = join(root, 'generated.ts')
    writeFileSync(generated, module.text)
    const { migrations } = (await import(pathToFileURL(generated).href)) as {
      migrations: typeof postgresMigrations
    }
    assert.deepEqual(migrations.at(-1), { version: Number(next('postgres')), name: 'next claim', file, sql })
    assert.deepEqual(migrations.slice(0, -1), postgresMigrations)
  })
})
