#!/usr/bin/env node
/**
 * `npm run build:migrations`: bundles each driver's frozen migrations into the
 * module its runner imports, so the SQL ships inside dist/ with no files to
 * find at run time.
 *
 *   src/storage/<driver>/migrations/NNNN_name.sql   the migrations, one a file, never edited once shipped
 *   src/storage/<driver>/migrations/shipped.sha256  the sha256 of every shipped file (`sha256sum` format)
 *   src/storage/<driver>/migrations.generated.ts    generated from the two above; committed
 *
 * Rules it enforces (and test/unit/migrations-bundle.test.ts checks the
 * committed files against): file names are NNNN_words.sql with NNNN counting
 * 1, 2, 3… with no gap; the migration's name is its words (`0002_leadership_terms.sql`
 * is version 2, 'leadership terms', the name recorded in docket_migrations);
 * a file's bytes are its SQL, exactly (no CR, nothing stripped); a file listed
 * in shipped.sha256 must still have that hash and may not be removed. A new
 * file's hash is appended to shipped.sha256 the first time this runs. To change
 * a function or a table, write a new migration (`CREATE OR REPLACE FUNCTION …`,
 * `ALTER TABLE …`); never edit a shipped one.
 *
 * PostgreSQL's functions are not migrations: each is a living file,
 * src/storage/postgres/functions/<name>.sql, one `CREATE OR REPLACE FUNCTION
 * <name>` per file (Flyway's repeatable migrations). This script bundles them,
 * in dependency order (a `-- requires: a, b` line names the functions a file
 * needs to exist first), with each one's sha256, into
 * src/storage/postgres/functions.generated.ts; the runner re-applies a file
 * after the migrations whenever its sha256 differs from the one the database
 * recorded. Every function file names its SQLite twin on a `-- SQLite twin:`
 * line.
 *
 * The PostgreSQL schema is not written in the SQL: a migration names tables
 * and functions unqualified, and the runner (src/storage/postgres/migrations.ts)
 * creates Docket's schema (`docket`, or the URL's `?schema=`) and runs every
 * migration on a connection whose search_path is that schema. So one SQL text
 * serves every schema, and a migration must never name one.
 *
 * `node scripts/build-migrations.mjs` writes what changed; `--check` only
 * reports, exiting 1 when anything is stale.
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const DRIVERS = ['sqlite', 'postgres']
export const SCRIPT = 'npm run build:migrations'

const FILE_NAME = /^(\d{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$/
const SHIPPED_LINE = /^([0-9a-f]{64}) {2}(\S+)$/

const defaultRoot = fileURLToPath(new URL('..', import.meta.url))

export class MigrationRuleError extends Error {}

/** Where a driver's migration files, hash list and generated module live, under `root`. */
export function driverPaths(driver, root = defaultRoot) {
  const base = join(root, 'src', 'storage', driver)
  return {
    dir: join(base, 'migrations'),
    shipped: join(base, 'migrations', 'shipped.sha256'),
    module: join(base, 'migrations.generated.ts'),
  }
}

/** Where PostgreSQL's living function files and their generated module live, under `root`. */
export function functionPaths(root = defaultRoot) {
  const base = join(root, 'src', 'storage', 'postgres')
  return { dir: join(base, 'functions'), module: join(base, 'functions.generated.ts') }
}

export const sha256 = (text) => createHash('sha256').update(text).digest('hex')

/** The driver's migrations in version order, checked against the naming rules. */
export function readMigrations(dir) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
  return files.map((file, index) => {
    const match = FILE_NAME.exec(file)
    if (!match) {
      throw new MigrationRuleError(`${join(dir, file)}: a migration file is named NNNN_lower_case_words.sql`)
    }
    const version = Number(match[1])
    if (version !== index + 1) {
      throw new MigrationRuleError(
        `${join(dir, file)}: expected version ${index + 1} here (versions count 1, 2, 3… with no gap or repeat)`,
      )
    }
    const sql = readFileSync(join(dir, file), 'utf8')
    if (sql.includes('\r'))
      throw new MigrationRuleError(`${join(dir, file)}: has CR characters; use LF line ends`)
    if (sql.trim() === '') throw new MigrationRuleError(`${join(dir, file)}: is empty`)
    return { version, name: match[2].replaceAll('_', ' '), file, sql }
  })
}

/**
 * shipped.sha256 with a line for every migration: the listed ones must be
 * unchanged and still present, in order; unlisted (new) ones are appended.
 */
export function shippedList(dir, migrations, listed) {
  const lines = listed.split('\n').filter((line) => line !== '')
  lines.forEach((line, index) => {
    const match = SHIPPED_LINE.exec(line)
    if (!match)
      throw new MigrationRuleError(`${join(dir, 'shipped.sha256')}:${index + 1}: expected "<sha256>  <file>"`)
    const [, hash, file] = match
    const migration = migrations[index]
    if (migration?.file !== file) {
      throw new MigrationRuleError(
        `${join(dir, file)}: shipped (line ${index + 1} of shipped.sha256) but ${migration ? `${migration.file} is in its place` : 'missing'}; a shipped migration is never renamed or removed`,
      )
    }
    if (sha256(migration.sql) !== hash) {
      throw new MigrationRuleError(
        `${join(dir, file)}: changed after it shipped (its sha256 is not the one in shipped.sha256). ` +
          'Put it back and write the change as a new migration. Only if this file has never left your ' +
          `branch, delete its line from shipped.sha256 and run \`${SCRIPT}\` again.`,
      )
    }
  })
  return migrations.map((m) => `${sha256(m.sql)}  ${m.file}\n`).join('')
}

const FUNCTION_FILE = /^([a-z][a-z0-9_]*)\.sql$/
const REQUIRES_LINE = /^-- requires: (.+)$/m

/** The living function files of `dir`, in an order where each comes after what it requires. */
export function readFunctions(dir) {
  if (!existsSync(dir)) return []
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
  const byName = new Map()
  for (const file of files) {
    const where = join(dir, file)
    const match = FUNCTION_FILE.exec(file)
    if (!match) throw new MigrationRuleError(`${where}: a function file is named <function_name>.sql`)
    const name = match[1]
    const sql = readFileSync(where, 'utf8')
    if (sql.includes('\r')) throw new MigrationRuleError(`${where}: has CR characters; use LF line ends`)
    const creates = [...sql.matchAll(/^CREATE\s+OR\s+REPLACE\s+FUNCTION\s+([a-z_][a-z0-9_]*)\s*\(/gim)]
    if (creates.length !== 1 || creates[0][1] !== name) {
      throw new MigrationRuleError(
        `${where}: holds exactly one \`CREATE OR REPLACE FUNCTION ${name}(\` (one function per file, named as the file)`,
      )
    }
    if (/^\s*(DROP|ALTER|CREATE\s+(TABLE|INDEX|TRIGGER|SEQUENCE))\b/im.test(sql)) {
      throw new MigrationRuleError(
        `${where}: a function file only replaces its function; tables, indexes, triggers and drops go in a migration`,
      )
    }
    if (!/^-- SQLite twin: .+/m.test(sql))
      throw new MigrationRuleError(`${where}: names its SQLite twin on a \`-- SQLite twin: …\` line`)
    const requires = (REQUIRES_LINE.exec(sql)?.[1] ?? '')
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean)
    byName.set(name, { name, file, sql, sha256: sha256(sql), requires })
  }
  const ordered = []
  const state = new Map()
  const visit = (name, from) => {
    const f = byName.get(name)
    if (!f) throw new MigrationRuleError(`${join(dir, `${from}.sql`)}: requires ${name}, which has no file`)
    if (state.get(name) === 'done') return
    if (state.get(name) === 'visiting')
      throw new MigrationRuleError(`${join(dir, `${name}.sql`)}: requires itself (a cycle)`)
    state.set(name, 'visiting')
    for (const r of f.requires) visit(r, name)
    state.set(name, 'done')
    ordered.push(f)
  }
  for (const name of byName.keys()) visit(name, name)
  return ordered
}

export function renderFunctionsModule(functions) {
  const header = [
    '// Generated by scripts/build-migrations.mjs from src/storage/postgres/functions/*.sql. Do not edit:',
    `// edit the function's file there and run \`${SCRIPT}\` (see functions/README.md).`,
    '// In dependency order; each is re-applied after the migrations when its sha256 differs',
    '// from the one the database recorded. The SQL names no schema: the runner sets search_path.',
  ]
  const entries = functions.map((f) =>
    [
      '  {',
      `    name: '${f.name}',`,
      `    file: '${f.file}',`,
      `    sha256: '${f.sha256}',`,
      `    sql: ${literal(f.sql)},`,
      '  },',
    ].join('\n'),
  )
  return `${header.join('\n')}\n\nexport const functions = [\n${entries.join('\n')}\n]\n`
}

/** A template literal holding `text` exactly. */
const literal = (text) =>
  `\`${text.replaceAll('\\', '\\\\').replaceAll('`', '\\`').replaceAll('${', '\\${')}\``

export function renderModule(driver, migrations) {
  const from = `src/storage/${driver}/migrations/*.sql`
  const header = [
    `// Generated by scripts/build-migrations.mjs from ${from}. Do not edit:`,
    `// write the next NNNN_name.sql there and run \`${SCRIPT}\` (see migrations/README.md).`,
  ]
  if (driver === 'postgres') {
    header.push("// The SQL names no schema: the runner sets search_path to Docket's schema.")
  }
  if (driver === 'postgres') {
    header.push(
      '//',
      "// The functions these migrations create are history: today's text of each is its living",
      '// file, src/storage/postgres/functions/<name>.sql, applied after the migrations.',
    )
  }
  const entries = migrations.map((m) =>
    [
      '  {',
      `    version: ${m.version},`,
      `    name: '${m.name}',`,
      `    file: '${m.file}',`,
      `    sql: ${literal(m.sql)},`,
      '  },',
    ].join('\n'),
  )
  return `${header.join('\n')}\n\nexport const migrations = [\n${entries.join('\n')}\n]\n`
}

/**
 * Every file this script owns, as it should be: `{ path, text, current }` with
 * `current` the text on disk (null when missing). Throws MigrationRuleError
 * when a rule is broken. Writes nothing.
 */
export function buildMigrations(root = defaultRoot) {
  const read = (path) => (existsSync(path) ? readFileSync(path, 'utf8') : null)
  const outputs = DRIVERS.flatMap((driver) => {
    const paths = driverPaths(driver, root)
    const migrations = readMigrations(paths.dir)
    const shipped = read(paths.shipped)
    return [
      { path: paths.shipped, text: shippedList(paths.dir, migrations, shipped ?? ''), current: shipped },
      { path: paths.module, text: renderModule(driver, migrations), current: read(paths.module) },
    ]
  })
  const fn = functionPaths(root)
  outputs.push({
    path: fn.module,
    text: renderFunctionsModule(readFunctions(fn.dir)),
    current: read(fn.module),
  })
  return outputs
}

function main() {
  const check = process.argv.includes('--check')
  let outputs
  try {
    outputs = buildMigrations()
  } catch (error) {
    if (!(error instanceof MigrationRuleError)) throw error
    console.error(error.message)
    process.exit(1)
  }
  const stale = outputs.filter((o) => o.text !== o.current)
  for (const o of stale) {
    if (!check) writeFileSync(o.path, o.text)
    console.log(`${check ? 'stale' : 'wrote'} ${relative(process.cwd(), o.path)}`)
  }
  if (stale.length === 0) console.log('migrations: up to date')
  if (check && stale.length > 0) {
    console.error(`run \`${SCRIPT}\``)
    process.exit(1)
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main()
