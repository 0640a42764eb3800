/**
 * The npm package as a user gets it: `npm pack` (which builds dist/ and the
 * dashboard on prepack), then `npm install ./docket-<version>.tgz` into an
 * empty project (both done once per state of the sources, and shared:
 * test/support/artifacts.ts). The tarball must hold what runs and nothing
 * else, and there a library script, a typed import, `docket serve` and its
 * dashboard work. (Issue 17: the dashboard was missing, so `/` answered 404.)
 */
import assert from 'node:assert/strict'
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { freePort } from '../reliability/support.js'
import { installedPackage } from '../support/artifacts.js'
import { freshPostgresSchema } from '../support/postgres.js'
import { repositoryTypescript, typescript7 } from '../support/typescript.js'
import { until } from '../worker/harness.js'

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

describe('the npm package', () => {
  // The tests write their scripts and databases here, beside the shared install's node_modules.
  const project = mkdtempSync(join(tmpdir(), 'docket-pack-'))
  let files: string[] = []
  let server: ChildProcess | undefined

  before(() => {
    const installed = installedPackage()
    files = installed.files
    writeFileSync(join(project, 'package.json'), readFileSync(join(installed.project, 'package.json')))
    symlinkSync(join(installed.project, 'node_modules'), join(project, 'node_modules'), 'dir')
  })
  after(() => {
    server?.kill('SIGKILL')
    rmSync(project, { recursive: true, force: true })
  })

  it('holds the built library with its types, the CLI and the dashboard, and no sources or tests', () => {
    for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js'])
      assert.ok(files.includes(f), `${f} is in the tarball`)
    assert.ok(files.includes('dashboard/dist/index.html'), 'the built dashboard is in the tarball')
    assert.ok(
      files.some((f) => f.startsWith('dashboard/dist/assets/')),
      'with its assets',
    )
    const strays = files.filter((f) => /^(src|test|bench|scripts|examples|dashboard\/src)\//.test(f))
    assert.deepEqual(strays, [], 'no sources, tests or scripts')
  })

  it('ships source maps that carry their own sources', () => {
    const maps = files.filter((f) => f.endsWith('.js.map'))
    assert.ok(maps.length > 0)
    const installed = join(project, 'node_modules', 'docket')
    for (const f of maps) {
      const map = JSON.parse(readFileSync(join(installed, f), 'utf8')) as {
        sources: string[]
        sourcesContent?: (string | null)[]
      }
      assert.equal(map.sourcesContent?.length, map.sources.length, `${f} embeds its sources`)
      assert.ok(
        map.sourcesContent!.every((s) => typeof s === 'string' && s.length > 0),
        `${f} has no empty source`,
      )
    }
  })

  it('runs a library script: open a SQLite file, add a job, work it, read the result', () => {
    writeFileSync(
      join(project, 'script.mjs'),
      `import { Docket, Worker } from 'docket'
const docket = await Docket.open('./app.db')
await docket.createQueue({ name: 'q' })
const job = await docket.add('q', 'double', { n: 21 })
const worker = await new Worker(docket, { queues: ['q'], handlers: { double: (j) => ({ n: j.payload.n * 2 }) } }).start()
for (let i = 0; i < 200 && (await docket.getJob(job.id)).status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 25))
console.log(JSON.stringify((await docket.getJob(job.id)).result))
await worker.close()
await docket.close()
`,
    )
    assert.equal(run(process.execPath, ['script.mjs'], project).trim(), '{"n":42}')
  })

  // TypeScript 6 and later load no @types package unless the tsconfig lists
  // it, so with a plain tsconfig the declarations must bring Node's types
  // themselves (issue 33: 18 errors under TypeScript 7, Buffer and
  // node:stream unknown, Worker without its EventEmitter methods). The
  // consumer lists no @types package of its own: @types/node comes as
  // Docket's dependency, and dist/index.d.ts references it.
  it('type-checks a consumer of every entry point with TypeScript 5.9 and 7 and a plain tsconfig, and refuses a wrong use', () => {
    const exported = Object.keys(
      (
        JSON.parse(readFileSync(join(project, 'node_modules', 'docket', 'package.json'), 'utf8')) as {
          exports: Record<string, unknown>
        }
      ).exports,
    )
    assert.ok(exported.includes('.'))
    assert.deepEqual(
      exported.filter((e) => e.includes('*')),
      [],
      'an export pattern would need a file per match here',
    )
    const entries = exported.map(
      (e, i) =>
        `import * as entry${i} from '${e === '.' ? 'docket' : `docket${e.slice(1)}`}'\nvoid entry${i}`,
    )
    writeFileSync(
      join(project, 'typed.ts'),
      `${entries.join('\n')}
import { Docket, type JobInput, Worker } from 'docket'
const input: JobInput = { queue: 'q', type: 't', payload: { a: 1 } }
export async function main(): Promise<string> {
  const docket: Docket = await Docket.open()
  const job = await docket.add(input)
  const worker = new Worker(docket, { queues: ['q'], handlers: {} })
  // Worker is an EventEmitter (node:events): known only when Node's types are.
  worker.on('failed', (failed, error) => console.error(failed.id, error.message))
  // @ts-expect-error a queue name is a string
  await docket.createQueue({ name: 42 })
  const file = await docket.addWithFiles(input, [{ name: 'a.txt', mediaType: 'text/plain', data: Buffer.from('a') }])
  return job.id + file.job.id + file.artifacts.length
}
type Tasks = { analyse: { payload: { url: string }; result: { words: number } } }
export async function typed(): Promise<number> {
  const docket = await Docket.open<Tasks>()
  const job = await docket.add('q', 'analyse', { url: 'u' })
  // @ts-expect-error the task map says what analyse takes
  await docket.add('q', 'analyse', { url: 1 })
  new Worker<Tasks>(docket, { queues: ['q'], handlers: { analyse: async (j) => ({ words: j.payload.url.length }) } })
  const read = await docket.getJob(job.id)
  return read.result?.words ?? 0
}
`,
    )
    const consumer = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
      devDependencies?: unknown
    }
    assert.deepEqual(Object.keys(consumer.dependencies), ['docket'], 'the consumer lists no @types package')
    assert.equal(consumer.devDependencies, undefined)
    // What a new project's tsconfig says: strict, Node's ESM resolution, and
    // nothing about types (skipLibCheck off, so the declarations are checked too).
    const plain = { strict: true, module: 'nodenext', noEmit: true }
    const compilers = [
      // 5.9 loads every @types package in node_modules; 7 (as 6) only those listed, none here.
      repositoryTypescript(),
      typescript7(),
    ]
    const failures: string[] = []
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: plain, files: ['typed.ts'] }),
    )
    for (const { name, tsc } of compilers) {
      try {
        run(process.execPath, [...tsc, '-p', 'tsconfig.json'], project)
      } catch (error) {
        failures.push(`${name}:\n${(error as { stdout?: string }).stdout}`)
      }
    }
    assert.deepEqual(failures, [], 'every compiler accepts the consumer')
  })

  it('`docket serve` from the installed package serves the API and the dashboard', async () => {
    const port = await freePort()
    const bin = join(project, 'node_modules', '.bin', 'docket')
    server = spawn(bin, ['serve', '--no-auth', '--db', join(project, 'served.db'), '--port', String(port)], {
      cwd: project,
      stdio: 'ignore',
    })
    const base = `http://127.0.0.1:${port}`
    await until(
      async () => {
        try {
          return (await fetch(`${base}/health`)).ok
        } catch {
          return false
        }
      },
      30_000,
      'the packaged server to answer',
    )
    const page = await fetch(`${base}/`)
    assert.equal(page.status, 200)
    const html = await page.text()
    assert.match(html, /<div id="app"|<script/)
    const asset = html.match(/(?:src|href)="(\/assets\/[^"]+)"/)?.[1]
    assert.ok(asset, 'the page links its built assets')
    assert.equal((await fetch(`${base}${asset}`)).status, 200)
    const assets = readdirSync(join(project, 'node_modules', 'docket', 'dashboard', 'dist', 'assets'))
    assert.ok(assets.length > 0)
    const jobs = await fetch(`${base}/api/v1/jobs`)
    assert.equal(jobs.status, 200)
  })

  it('a PostgreSQL-only install (--omit=optional) compiles nothing native: SQLite says what to install, PostgreSQL works', async () => {
    const { tarball } = installedPackage()
    const pgOnly = mkdtempSync(join(tmpdir(), 'docket-pg-only-'))
    const pgSchema = await freshPostgresSchema()
    try {
      writeFileSync(
        join(pgOnly, 'package.json'),
        JSON.stringify({ name: 'pg-only', private: true, type: 'module' }),
      )
      run(
        'npm',
        ['install', '--omit=optional', '--no-audit', '--no-fund', '--prefer-offline', tarball],
        pgOnly,
      )
      assert.ok(
        !existsSync(join(pgOnly, 'node_modules', 'better-sqlite3')),
        'better-sqlite3 is not installed',
      )
      writeFileSync(
        join(pgOnly, 'script.mjs'),
        `import { Docket } from 'docket'
const out = {}
try { await Docket.open('./x.db') } catch (e) { out.sqlite = [e.code, e.message] }
const docket = await Docket.open(process.argv[2])
await docket.createQueue({ name: 'q' })
const job = await docket.add('q', 't', { n: 1 })
out.postgres = (await docket.getJob(job.id)).status
await docket.close()
console.log(JSON.stringify(out))
`,
      )
      const out = JSON.parse(run(process.execPath, ['script.mjs', pgSchema.url], pgOnly))
      assert.equal(out.sqlite[0], 'SQLITE_DRIVER_MISSING')
      assert.match(out.sqlite[1], /npm install better-sqlite3/)
      assert.equal(out.postgres, 'waiting')
    } finally {
      rmSync(pgOnly, { recursive: true, force: true })
      await pgSchema.drop()
    }
  })
})
