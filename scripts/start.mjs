#!/usr/bin/env node
// `npm start`: builds the dashboard if it is not built (or older than its
// sources), then runs `docket serve --worker examples/demo-worker.ts` with any
// extra arguments (`npm start -- --port 9000`).
import { spawn } from 'node:child_process'
import { buildDashboard } from './build-dashboard.mjs'

const root = new URL('..', import.meta.url).pathname

try {
  await buildDashboard()
} catch (error) {
  console.error(`Could not build the dashboard (${error.message}); serving the API without it.`)
}

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    'src/cli/main.ts',
    'serve',
    '--worker',
    'examples/demo-worker.ts',
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit' },
)
// Ctrl-C reaches the server too (same process group); pass on a SIGTERM or SIGHUP sent to this process only.
process.on('SIGINT', () => {})
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill('SIGTERM'))
// `npm start` runs this script under `sh -c`: a SIGTERM to npm ends npm and the
// shell but never reaches this process, which would leave the server running,
// orphaned. So a parent that goes away is taken as a SIGTERM too.
const parent = process.ppid
const watchParent = setInterval(() => {
  if (process.ppid !== parent) {
    clearInterval(watchParent)
    child.kill('SIGTERM')
  }
}, 250)
watchParent.unref()
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
