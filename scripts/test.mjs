#!/usr/bin/env node
// `npm test`: every test/**/*.test.ts file, one file at a time, through node's
// own test runner (TypeScript loaded by tsx). Extra arguments narrow the run
// to files under those paths: `npm test -- test/unit`.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname

function testFiles(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : testFiles(path)
      return name.endsWith('.test.ts') ? [relative(root, path)] : []
    })
}

const filters = process.argv.slice(2)
const files = testFiles(join(root, 'test')).filter(
  (f) => filters.length === 0 || filters.some((p) => f.startsWith(p)),
)
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`)
  process.exit(1)
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, DOCKET_TEST: '1' } },
)
process.exit(result.status ?? 1)
