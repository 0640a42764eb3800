#!/usr/bin/env node
// `npm test`: every test/**/*.test.ts file through node's own test runner
// (TypeScript loaded by tsx), each file in a process of its own. Extra
// arguments narrow the run to files under those paths: `npm test -- test/unit`.
// `--fast` (npm run test:fast) runs the tier that checks the product's rules
// without spawning processes: unit, conformance on both drivers, the server's
// routes in process. docs/testing.md says what each tier runs and takes.
//
// Files run in parallel: each opens its own SQLite file in a temp directory
// or its own PostgreSQL schema, listens on a port the OS picked, and keeps
// its singletons in its own process. The few that bound wall-clock times
// under kills, freezes and restarts run after, one at a time, so that the
// others' load does not eat their margins. Before any suite, the npm package
// and the dashboard are built once (test/support/artifacts.ts), and shared.
//
// The run fails when any test fails, when a file fails to load, and when a
// file reports no test at all; skipped tests are listed, with their reason.
// The Python client's pytest suite is one of these files too
// (test/clients/python.test.ts spawns pytest once per driver and reports each
// pytest test as its own).
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname

/** The fast tier: the product's rules, in process. */
const FAST = ['test/unit/', 'test/conformance/', 'test/server/']

/** Suites that assert wall-clock bounds while they kill, freeze or restart what they run. */
const ALONE = [
  'test/reliability/frozen-leader.test.ts',
  'test/reliability/kill-chaos.test.ts',
  'test/reliability/pg-restart.test.ts',
  'test/reliability/shutdown.test.ts',
]

/** Suites that run the npm package or the built dashboard. */
const NEEDS_BUILD = ['test/package/', 'test/dashboard/']

function testFiles(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : testFiles(path)
      return name.endsWith('.test.ts') ? [relative(root, path)] : []
    })
}

const args = process.argv.slice(2)
const fast = args.includes('--fast')
const filters = [...args.filter((a) => a !== '--fast'), ...(fast ? FAST : [])]
const files = testFiles(join(root, 'test')).filter(
  (f) => filters.length === 0 || filters.some((p) => f.startsWith(p)),
)
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`)
  process.exit(1)
}

const concurrency = Number(process.env.DOCKET_TEST_CONCURRENCY) || Math.max(2, availableParallelism() * 2)
const env = { ...process.env, DOCKET_TEST: '1' }
const started = Date.now()

if (files.some((f) => NEEDS_BUILD.some((p) => f.startsWith(p)))) {
  const build = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/artifacts.ts'], {
    cwd: root,
    stdio: 'inherit',
    env,
  })
  if (build.status !== 0) {
    console.error('the package or the dashboard did not build; no suite was run')
    process.exit(1)
  }
}

/**
 * Runs one file through its own test runner, its output held and printed
 * whole when it ends (so that files side by side do not interleave), and
 * resolves to what it did: exit status, wall time, and its tests' tally.
 */
function runFile(file) {
  const summary = join(tmpdir(), `docket-test-summary-${process.pid}-${file.replaceAll('/', '_')}.json`)
  rmSync(summary, { force: true })
  const begun = Date.now()
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${join(root, 'scripts', 'test-summary.mjs')}`,
      `--test-reporter-destination=${summary}`,
      file,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env },
  )
  const output = []
  child.stdout.on('data', (d) => output.push(d))
  child.stderr.on('data', (d) => output.push(d))
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      const ms = Date.now() - begun
      process.stdout.write(`\n# ${file} (${(ms / 1000).toFixed(1)} s)\n`)
      process.stdout.write(Buffer.concat(output))
      let tally = { tests: 0, passed: 0, failed: 0, skipped: 0, skips: [] }
      try {
        tally = JSON.parse(readFileSync(summary, 'utf8'))
      } catch {}
      rmSync(summary, { force: true })
      resolve({ file, code: signal ? `signal ${signal}` : code, ms, ...tally })
    }),
  )
}

/** Runs `group`, `width` files at a time. */
async function runGroup(group, width) {
  const queue = [...group]
  const done = []
  const lane = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) done.push(await runFile(file))
  }
  await Promise.all(Array.from({ length: Math.min(width, group.length) }, lane))
  return done
}

// The slowest files start first, by the wall times of the last run here: a
// long file begun last would make the whole run wait for it alone. Before
// any run here, the slowest measured on the development machine lead.
const SLOWEST = [
  'test/dashboard/a11y.test.ts',
  'test/reliability/access-ids.test.ts',
  'test/conformance/postgres.test.ts',
]
const timesFile = join(tmpdir(), `docket-test-times-${root.replaceAll('/', '_')}.json`)
let lastTimes = {}
try {
  lastTimes = JSON.parse(readFileSync(timesFile, 'utf8'))
} catch {}
const expected = (f) => lastTimes[f] ?? (SLOWEST.includes(f) ? Number.MAX_SAFE_INTEGER : 0)
const slowestFirst = (list) => [...list].sort((a, b) => expected(b) - expected(a))

const parallel = slowestFirst(files.filter((f) => !ALONE.includes(f)))
const alone = files.filter((f) => ALONE.includes(f))
const groups = []
if (parallel.length > 0)
  groups.push({
    name: `parallel group, ${concurrency} files at once`,
    results: await runGroup(parallel, concurrency),
  })
if (alone.length > 0) groups.push({ name: 'alone, one at a time', results: await runGroup(alone, 1) })

const times = { ...lastTimes }
for (const { results } of groups) for (const r of results) times[r.file] = r.ms
writeFileSync(timesFile, JSON.stringify(times, null, 1))

let failed = false
console.log('\n# suites by wall time (seconds)')
for (const { name, results } of groups) {
  console.log(`# ${name}: ${results.length} files`)
  for (const r of results.sort((a, b) => b.ms - a.ms)) {
    const problems = []
    if (r.code !== 0) problems.push(`exit ${r.code}`)
    if (r.tests === 0) problems.push('reported no test')
    if (problems.length > 0) failed = true
    const tally = [
      `${r.passed} passed`,
      r.failed && `${r.failed} FAILED`,
      r.skipped && `${r.skipped} skipped`,
    ]
    console.log(
      `#   ${(r.ms / 1000).toFixed(1).padStart(6)}  ${r.file}  (${[...tally, ...problems].filter(Boolean).join(', ')})`,
    )
    for (const s of r.skips) console.log(`#           skipped: ${s}`)
  }
}
console.log(`# total ${((Date.now() - started) / 1000).toFixed(0)} s: ${failed ? 'FAILED' : 'passed'}`)
process.exit(failed ? 1 : 0)
