/**
 * The README's examples, run as a newcomer runs them (issue 33: every curl
 * example ended at once in "no handler for job type 'analyse'"). `npm start`
 * serves a fresh database in a temporary directory that stands for the
 * repository: its `data/` is the server's, and `examples/` is the
 * repository's. Then every shell and TypeScript block of README.md runs
 * there, in order, except the few marked `<!-- readme-test: skip (why) -->`,
 * and after each one every job must settle as the README says: completed,
 * or still waiting for the `delayMs` it was added with. docs/testing.md has
 * the conventions and what the test stands in for (the port, example.com,
 * the `docket` command, `$KEY`).
 */
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { handlers as demoHandlers } from '../../examples/demo-worker.js'
import { freePort } from '../reliability/support.js'
import { sleep, until } from '../support/helpers.js'
import { type Block, codeBlocks, shellScript, strayDirectives, typescriptPrograms } from './blocks.js'

const ROOT = join(import.meta.dirname, '..', '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const run = promisify(execFile)
/** tsx, by its path: the programs run in the temporary directory, where no node_modules has it. */
const TSX = import.meta.resolve('tsx')

/** The address the README's examples name, and the page they fetch (RFC 2606: a name reserved for examples). */
const README_SERVER = 'http://127.0.0.1:8080'
const EXAMPLE_SITE = 'https://example.com'
const EXAMPLE_PAGE =
  '<html><body><h1>Example Domain</h1><p>This domain is for use in examples.</p></body></html>'

interface Job {
  id: string
  queue: string
  type: string
  status: string
  attempts: number
  runAt: string
  lastError: { message: string } | null
}

describe('README.md: every example runs against npm start', () => {
  const work = mkdtempSync(join(tmpdir(), 'docket-readme-'))
  let base = ''
  let key = ''
  let npm: ChildProcess | undefined
  let site: Server | undefined
  let siteUrl = ''
  let output = ''
  /** tsc's complaints about the README's TypeScript, or null; run while npm start starts. */
  let typecheck: Promise<string | null> = Promise.resolve(null)
  const blocks = codeBlocks(README)

  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${base}/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } })
    if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`)
    return (await r.json()) as T
  }
  const jobs = async () => (await api<{ jobs: Job[] }>('/jobs?limit=500')).jobs
  /** Settled: every job final, or scheduled for later without having run (an add's delayMs). */
  const unsettled = (all: Job[]) =>
    all.filter(
      (j) =>
        !['completed', 'failed', 'cancelled'].includes(j.status) &&
        !(j.status === 'scheduled' && j.attempts === 0 && Date.parse(j.runAt) > Date.now()),
    )
  const describeJobs = (list: Job[]) =>
    list.map(
      (j) => `${j.queue}/${j.type} ${j.id} ${j.status}${j.lastError ? `: ${j.lastError.message}` : ''}`,
    )

  /** Waits until every job has settled, then requires each one to have ended as the README says. */
  async function settle(step: string): Promise<void> {
    const deadline = Date.now() + 20_000
    let all = await jobs()
    while (unsettled(all).length > 0) {
      if (Date.now() > deadline)
        assert.fail(`jobs still running 20 s after ${step}: ${describeJobs(unsettled(all)).join('; ')}`)
      await sleep(100)
      all = await jobs()
    }
    const wrong = all.filter((j) => j.status !== 'completed' && j.status !== 'scheduled')
    assert.deepEqual(describeJobs(wrong), [], `after ${step}, every job completed (or waits for its delay)`)
  }

  before(async () => {
    // `examples/` as in the repository (the README's files are there); `data/` is the server's own.
    symlinkSync(join(ROOT, 'examples'), join(work, 'examples'), 'dir')
    mkdirSync(join(work, 'data'))
    // TypeScript blocks import 'docket': here that is the source (tsx and tsc both read `paths`).
    writeFileSync(
      join(work, 'package.json'),
      JSON.stringify({ name: 'readme-reader', private: true, type: 'module' }),
    )
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          target: 'es2022',
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
          paths: { docket: [join(ROOT, 'src', 'index.ts')] },
        },
        include: ['readme-*.ts'],
      }),
    )
    for (const p of typescriptPrograms(blocks)) writeFileSync(join(work, `readme-${p.line}.ts`), p.code)
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    typecheck = run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: work }).then(
      () => null,
      (error: { stdout?: string; message: string }) => error.stdout || error.message,
    )
    site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(EXAMPLE_PAGE))
    await new Promise<void>((resolve) => site!.listen(0, '127.0.0.1', resolve))
    siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}`

    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    npm = spawn('npm', ['start', '--', '--port', String(port), '--db', join(work, 'data', 'docket.db')], {
      cwd: ROOT,
      // Steps without the pause that lets a person watch the progress bar move.
      env: { ...process.env, DOCKET_PIPELINE_PACE_MS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    npm.stdout!.on('data', (d) => {
      output += d
    })
    npm.stderr!.on('data', (d) => {
      output += d
    })
    await until(() => output.includes('First start'), 90_000, `npm start to serve: ${output}`)
    key = readFileSync(join(work, 'data', 'first-admin-key'), 'utf8').trim()
  })

  after(async () => {
    if (npm && npm.exitCode === null) {
      const exited = new Promise((resolve) => npm!.once('exit', resolve))
      npm.kill('SIGTERM')
      await Promise.race([exited, sleep(10_000)])
      if (npm.exitCode === null) npm.kill('SIGKILL')
    }
    npm?.stdout?.destroy()
    npm?.stderr?.destroy()
    site?.close()
    rmSync(work, { recursive: true, force: true })
  })

  it('marks only blocks that cannot run, each with its reason, and no directive stray', () => {
    assert.deepEqual(strayDirectives(README), [], 'a readme-test comment not just above a fence')
    const skipped = blocks.filter((b) => b.skip !== null)
    for (const b of skipped) assert.ok(b.skip!.length > 10, `line ${b.line}: say why it is skipped`)
    const runnable = blocks.filter((b) => b.skip === null && b.language !== 'other')
    assert.ok(
      runnable.some((b) => b.language === 'shell') && runnable.some((b) => b.language === 'typescript'),
    )
    assert.ok(skipped.length <= 4, `few skipped blocks: ${skipped.map((b) => `line ${b.line}`).join(', ')}`)
  })

  it('the demo worker has finished the sample documents that npm start added', async () => {
    await settle('npm start')
    assert.equal((await jobs()).filter((j) => j.type === 'process').length, 4)
  })

  it('type-checks the TypeScript blocks against the package', async () => {
    const failed = await typecheck
    if (failed !== null) assert.fail(`the README's TypeScript does not compile:\n${failed}`)
  })

  // In README order: a shell block, or a TypeScript program (a block and the ones that continue it).
  const steps = [
    ...blocks
      .filter((b) => b.language === 'shell' && b.skip === null)
      .map((b) => ({ line: b.line, block: b })),
    ...typescriptPrograms(blocks).map((p) => ({ line: p.line, program: p.code })),
  ].sort((a, b) => a.line - b.line)

  for (const step of steps) {
    if ('block' in step) {
      it(`runs the shell block at README.md:${step.line}`, async () => {
        await runShell(step.block!)
        await settle(`the block at line ${step.line}`)
      })
    } else {
      it(`runs the TypeScript at README.md:${step.line}`, async () => {
        await runProgram(step.line, step.program!)
        await settle(`the program at line ${step.line}`)
      })
    }
  }

  /**
   * Runs a shell block in bash, stopping at its first failing command. The
   * CLI runs as `docket` (README: `npx tsx src/cli/main.ts` in the
   * repository), and curl fails on an HTTP error status (as -s alone does not).
   */
  async function runShell(block: Block): Promise<void> {
    const prelude = [
      'set -euo pipefail',
      `docket() { "${process.execPath}" --import ${TSX} "${join(ROOT, 'src', 'cli', 'main.ts')}" "$@"; }`,
      'curl() { command curl --fail-with-body "$@"; }',
    ].join('\n')
    const script = shellScript(block).replaceAll(README_SERVER, base)
    const shell = spawn('bash', ['-c', `${prelude}\n${script}`], {
      cwd: work,
      env: { ...process.env, KEY: key },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    shell.stdout.on('data', (d) => {
      out += d
    })
    shell.stderr.on('data', (d) => {
      out += d
    })
    const code = await new Promise<number | null>((resolve) => shell.once('exit', resolve))
    assert.equal(code, 0, `the block at README.md:${block.line} failed:\n${script}\n--- output:\n${out}`)
  }

  /**
   * Runs a TypeScript program with tsx. One that ends by itself must exit 0.
   * One that keeps running is a worker (README: "A worker"): once it has
   * registered and every job has settled, it gets the SIGTERM that the
   * README handles, and must then exit 0 by itself.
   */
  async function runProgram(line: number, code: string): Promise<void> {
    const file = join(work, `readme-${line}.ts`)
    writeFileSync(file, code.replaceAll(EXAMPLE_SITE, siteUrl).replaceAll(README_SERVER, base))
    const child = spawn(process.execPath, ['--import', TSX, file], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      out += d
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    const fail = (what: string) =>
      assert.fail(`the program at README.md:${line} ${what}\n--- output:\n${out}`)
    try {
      const isWorker = async () =>
        (await api<{ workers: { pid: number; status: string }[] }>('/workers')).workers.some(
          (w) => w.pid === child.pid && w.status === 'up',
        )
      const settledWorker = async () => (await isWorker()) && unsettled(await jobs()).length === 0
      await until(
        async () => child.exitCode !== null || (await settledWorker()),
        30_000,
        'it to end or serve',
      ).catch(() => fail('neither ended nor started a worker whose jobs settled'))
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        const code = await Promise.race([exited, sleep(10_000).then(() => 'running')])
        if (code === 'running') fail('kept running 10 s after SIGTERM')
        if (code !== 0) fail(`exited ${code} after SIGTERM`)
      } else if ((await exited) !== 0) fail(`exited ${child.exitCode}`)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  }
})

// The docs' examples add these types to the `documents` queue that `npm start`
// serves; one the demo worker did not handle failed at once ("no handler").
describe('the demo worker of npm start', () => {
  it('handles every job type that README.md and docs/ add to the documents queue', () => {
    const files = [
      'README.md',
      'examples/python-worker/README.md',
      ...readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ]
    const patterns = [
      /"queue":\s*"documents",\s*"type":\s*"(\w+)"/g,
      /queue:\s*'documents',\s*type:\s*'(\w+)'/g,
      /\badd\(\s*'documents',\s*'(\w+)'/g,
      /docket add documents (\w+)/g,
    ]
    const used = new Map<string, string>()
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8')
      for (const pattern of patterns)
        for (const m of text.matchAll(pattern))
          used.set(m[1]!, `${file}:${text.slice(0, m.index).split('\n').length}`)
    }
    assert.ok(used.size >= 4, `the scan finds the docs' types: ${[...used.keys()].join(', ')}`)
    const missing = [...used].filter(([type]) => !(type in demoHandlers)).map(([t, at]) => `${t} (${at})`)
    assert.deepEqual(missing, [], 'types the demo worker has no handler for')
  })
})
