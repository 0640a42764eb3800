#!/usr/bin/env node
// `npm run chaos`: the reliability suite (test/reliability) with its long
// parameters (DOCKET_CHAOS=long): 5,000 jobs under kill chaos for 60 s, 60 s
// of HTTP load, 10,000 fuzzed requests, and so on; see docs/reliability.md.
// Every test prints `# figure <name> key=value ...` lines; they are also
// collected in .tmp/chaos-figures.jsonl and listed again at the end.
// Extra arguments narrow the run: `npm run chaos -- test/reliability/kill-chaos.test.ts`.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const dir = join(root, 'test', 'reliability')
const filters = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => relative(root, join(dir, f)))
  .filter((f) => filters.length === 0 || filters.some((p) => f.startsWith(p)))
if (files.length === 0) {
  console.error(`no reliability test files match ${filters.join(' ')}`)
  process.exit(1)
}
mkdirSync(join(root, '.tmp'), { recursive: true })
const figures = join(root, '.tmp', 'chaos-figures.jsonl')
rmSync(figures, { force: true })
const started = Date.now()
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, DOCKET_TEST: '1', DOCKET_CHAOS: 'long', DOCKET_FIGURES_FILE: figures },
  },
)
let lines = []
try {
  lines = readFileSync(figures, 'utf8').trim().split('\n').filter(Boolean)
} catch {
  // no figures: the run failed before any test printed one
}
console.log(
  `\nnpm run chaos: ${Math.round((Date.now() - started) / 1000)} s, ${lines.length} figures (${figures})`,
)
for (const line of lines) {
  const { name, long: _long, at: _at, ...values } = JSON.parse(line)
  console.log(
    `# figure ${name} ${Object.entries(values)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? Math.round(v * 100) / 100 : v}`)
      .join(' ')}`,
  )
}
process.exit(result.status ?? 1)
