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
// Ctrl-C reaches the server too (same process group); pass on a SIGTERM sent to this process only.
process.on('SIGINT', () => {})
process.on('SIGTERM', () => child.kill('SIGTERM'))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
