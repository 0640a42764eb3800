/**
 * The Python package's pytest suite (clients/python/tests), once per driver,
 * against a real `docket serve` that the suite starts on the database made
 * here: a SQLite file, and a fresh PostgreSQL schema. Each pytest test is
 * reported as a test of its own (read from pytest's JUnit XML), so `npm test`
 * counts and names them. Skipped, saying why, only where python3 or pytest
 * is missing.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Docket } from '../../src/index.js'
import { createKey } from '../../src/server/auth.js'
import { type Driver, freshTarget } from '../worker/harness.js'

const root = join(import.meta.dirname, '..', '..')
const python = process.env.DOCKET_TEST_PYTHON ?? 'python3'

function missing(): string | false {
  if (spawnSync(python, ['--version']).status !== 0) return `${python} is not installed`
  if (spawnSync(python, ['-m', 'pytest', '--version']).status !== 0)
    return `pytest is not installed for ${python}`
  return false
}
const skip = missing()
if (skip) console.log(`# the Python client's suite is skipped: ${skip}`)

interface Case {
  name: string
  failure: string | null
  skipped: string | null
}

/** The test cases of a JUnit XML report, as pytest writes it. */
function junitCases(xml: string): Case[] {
  const fromXml = (s: string) =>
    s
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&quot;', '"')
      .replaceAll('&apos;', "'")
      .replaceAll('&amp;', '&')
  return [...xml.matchAll(/<testcase ([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => {
    const attrs = Object.fromEntries(
      [...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], fromXml(a[2]!)]),
    )
    const body = m[3] ?? ''
    const failure = /<(failure|error)[^>]*?(?:message="([^"]*)")?[^>]*>([\s\S]*?)<\/\1>/.exec(body)
    const skipped = /<skipped[^>]*?message="([^"]*)"/.exec(body)
    return {
      name: `${attrs.classname?.replace(/^tests\./, '')}::${attrs.name}`,
      failure: failure ? fromXml(`${failure[2] ?? ''}\n${failure[3] ?? ''}`) : null,
      skipped: skipped ? fromXml(skipped[1]!) : null,
    }
  })
}

function runPytest(env: NodeJS.ProcessEnv, junit: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    python,
    ['-m', 'pytest', 'clients/python/tests', '-q', '-p', 'no:cacheprovider', `--junitxml=${junit}`],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const output: Buffer[] = []
  child.stdout.on('data', (d) => output.push(d))
  child.stderr.on('data', (d) => output.push(d))
  return new Promise((resolve) =>
    child.once('close', (code) => resolve({ code, output: Buffer.concat(output).toString() })),
  )
}

for (const driver of ['sqlite', 'postgres'] as Driver[]) {
  describe(`Python client: pytest against docket serve [${driver}]`, { skip }, () => {
    it('passes every test of clients/python/tests', { timeout: 180_000 }, async (t) => {
      const target = await freshTarget(driver)
      const dir = mkdtempSync(join(tmpdir(), 'docket-pytest-'))
      try {
        const docket = await Docket.open(target.url)
        const admin = (await createKey(docket, 'pytest-admin', 'admin')).key
        const worker = (await createKey(docket, 'pytest-worker', 'worker')).key
        await docket.close()
        const junit = join(dir, 'junit.xml')
        const run = await runPytest(
          { DOCKET_TEST_DB: target.url, DOCKET_TEST_ADMIN_KEY: admin, DOCKET_TEST_WORKER_KEY: worker },
          junit,
        )
        let cases: Case[] = []
        try {
          cases = junitCases(readFileSync(junit, 'utf8'))
        } catch {
          // No report: pytest did not get as far as the tests; its output says why.
        }
        for (const c of cases) {
          await t.test(c.name, { skip: c.skipped ?? false }, () => {
            if (c.failure) assert.fail(c.failure)
          })
        }
        assert.ok(cases.length > 0, `pytest ran no test (exit ${run.code}):\n${run.output}`)
        assert.equal(run.code, 0, `pytest failed:\n${run.output}`)
      } finally {
        rmSync(dir, { recursive: true, force: true })
        await target.cleanup()
      }
    })
  })
}
