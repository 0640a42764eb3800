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
  functionPaths,
  MigrationRuleError,
  readFunctions,
  SCRIPT,
  sha256,
} from '../../scripts/build-migrations.mjs'
import { DURATION_RULE, POSITIVE_DURATION_RULE, QUEUE_NAME_RULE } from '../../src/core/bounds.js'
import { jobInput } from '../../src/core/options.js'
import {
  functions as postgresFunctions,
  migrations as postgresMigrations,
} from '../../src/storage/postgres/migrations.js'
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
    const fn = functionPaths()
    cpSync(fn.dir, functionPaths(root).dir, { recursive: true })
    cpSync(fn.module, functionPaths(root).module)
    return root
  }
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
    const last = postgresMigrations.at(-1)!
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    unlinkSync(join(dir, last.file))
    refused(root, new RegExp(`${esc(last.file)}: shipped .* but missing`))
    const renamed = last.file.replace(/\.sql$/, '_x.sql')
    writeFileSync(join(dir, renamed), 'SELECT 1;\n')
    refused(root, new RegExp(`${esc(last.file)}: shipped .* but ${esc(renamed)} is in its place`))
  })

  it('a gap in the numbers, a badly named file, CR line ends, an empty file', () => {
    const next = sqliteMigrations.length + 1
    const n = (v: number) => String(v).padStart(4, '0')
    const cases: [string, string, RegExp][] = [
      [
        `${n(next + 1)}_skips_one.sql`,
        'SELECT 1;\n',
        new RegExp(`${n(next + 1)}_skips_one\\.sql: expected version ${next} here`),
      ],
      [
        `${n(next)}-dashes.sql`,
        'SELECT 1;\n',
        new RegExp(`${n(next)}-dashes\\.sql: a migration file is named NNNN_lower_case_words\\.sql`),
      ],
      [`${n(next)}_crlf.sql`, 'SELECT 1;\r\n', new RegExp(`${n(next)}_crlf\\.sql: has CR characters`)],
      [`${n(next)}_empty.sql`, '\n', new RegExp(`${n(next)}_empty\\.sql: is empty`)],
    ]
    for (const [file, sql, pattern] of cases) {
      const root = copyRoot()
      writeFileSync(join(driverPaths('sqlite', root).dir, file), sql)
      refused(root, pattern)
    }
  })

  it('a new file is appended to shipped.sha256 and bundled with its text exact', async () => {
    const root = copyRoot()
    const paths = driverPaths('postgres', root)
    const placeholder = ['$', '{not interpolated}'].join('')
    const sql = `\n-- \`quoted\`, a \\ backslash, ${placeholder}, $$ dollars $$\nCREATE OR REPLACE FUNCTION claim_jobs() RETURNS void LANGUAGE sql AS $$ SELECT 1 $$;\n`
    const next = postgresMigrations.length + 1
    const file = `${String(next).padStart(4, '0')}_next_claim.sql`
    writeFileSync(join(paths.dir, file), sql)
    const outputs = buildMigrations(root)
    const shipped = outputs.find((o) => o.path === paths.shipped)!
    assert.equal(shipped.text, `${shipped.current}${sha256(sql)}  ${file}\n`)
    const module = outputs.find((o) => o.path === paths.module)!
    assert.ok(module.text.includes("today's text of each is its living"))
    const generated = join(root, 'generated.ts')
    writeFileSync(generated, module.text)
    const { migrations } = (await import(pathToFileURL(generated).href)) as {
      migrations: typeof postgresMigrations
    }
    assert.deepEqual(migrations.at(-1), { version: next, name: 'next claim', file, sql })
    assert.deepEqual(migrations.slice(0, -1), postgresMigrations)
  })
})

describe('living PostgreSQL functions', () => {
  const { dir } = functionPaths()
  const sqliteSources = readdirSync(join(dir, '..', '..', 'sqlite'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(dir, '..', '..', 'sqlite', f), 'utf8'))
    .join('\n')

  it('the bundle holds every file, in an order where each comes after what it requires', () => {
    const order = postgresFunctions.map((f) => f.name)
    assert.deepEqual(
      [...order].sort(),
      readdirSync(dir)
        .filter((f) => f.endsWith('.sql'))
        .map((f) => f.replace(/\.sql$/, ''))
        .sort(),
    )
    for (const f of readFunctions(dir)) {
      for (const r of f.requires) assert.ok(order.indexOf(r) < order.indexOf(f.name), `${f.name} after ${r}`)
    }
  })

  it('each file names its SQLite twin, and the twin names it back', () => {
    for (const f of readFunctions(dir)) {
      const twin = /^-- SQLite twin: (.+)$/m.exec(f.sql)?.[1] ?? ''
      if (twin.startsWith('none')) continue
      assert.ok(
        sqliteSources.includes(`${f.name}.sql`),
        `${f.file}: its SQLite twin (${twin}) does not name it back`,
      )
    }
  })

  it("add_job's messages for a bound are core/bounds.ts's", () => {
    const addJob = readFileSync(join(dir, 'add_job.sql'), 'utf8')
    assert.ok(addJob.includes(`'add_job: queue: ${QUEUE_NAME_RULE}'`), 'the queue name rule')
    assert.ok(addJob.includes(`'add_job: options.delayMs: ${DURATION_RULE}'`), 'the duration rule')
    assert.ok(addJob.includes("'add_job: options.id: expected a job id (a UUID)'"), 'the job id rule')
    assert.ok(
      addJob.includes(`'add_job: options.%: ${POSITIVE_DURATION_RULE}'`),
      'the positive duration rule',
    )
  })

  it('add_job takes every option add takes (core/options.ts jobInput), so a new one cannot be forgotten there', () => {
    const addJob = readFileSync(join(dir, 'add_job.sql'), 'utf8')
    const known = /known constant text\[\] := ARRAY\[([^\]]+)\]/.exec(addJob)?.[1] ?? ''
    const takes = [...known.matchAll(/'([^']+)'/g)].map((m) => m[1]).sort()
    const options = Object.keys(jobInput.shape).filter((k) => !['queue', 'type', 'payload'].includes(k))
    assert.deepEqual(takes, options.sort())
  })

  const withFile = (name: string, sql: string) => {
    const scratch = mkdtempSync(join(tmpdir(), 'docket-functions-'))
    cpSync(dir, scratch, { recursive: true })
    writeFileSync(join(scratch, name), sql)
    try {
      return () => readFunctions(scratch)
    } finally {
      setImmediate(() => rmSync(scratch, { recursive: true, force: true }))
    }
  }
  const refuses = (name: string, sql: string, pattern: RegExp) =>
    assert.throws(
      withFile(name, sql),
      (e: unknown) => e instanceof MigrationRuleError && pattern.test(e.message),
    )
  const twin = '-- SQLite twin: none.\n'

  it('refuses a file that is not one CREATE OR REPLACE of the function it is named for', () => {
    refuses(
      'other.sql',
      `${twin}CREATE OR REPLACE FUNCTION claim_jobs() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n`,
      /other\.sql: holds exactly one/,
    )
    refuses(
      'two.sql',
      `${twin}CREATE OR REPLACE FUNCTION two() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\nCREATE OR REPLACE FUNCTION two() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;\n`,
      /two\.sql: holds exactly one/,
    )
    refuses(
      'plain.sql',
      `${twin}CREATE FUNCTION plain() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n`,
      /plain\.sql: holds exactly one/,
    )
  })

  it('refuses tables, triggers and drops in a function file, a missing twin line, and an unknown requirement', () => {
    const fn = (name: string) =>
      `CREATE OR REPLACE FUNCTION ${name}() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n`
    refuses(
      'dropper.sql',
      `${twin}DROP TABLE jobs;\n${fn('dropper')}`,
      /dropper\.sql: a function file only replaces its function/,
    )
    refuses('lonely.sql', fn('lonely'), /lonely\.sql: names its SQLite twin/)
    refuses(
      'needy.sql',
      `${twin}-- requires: nowhere\n${fn('needy')}`,
      /needy\.sql: requires nowhere, which has no file/,
    )
  })
})
