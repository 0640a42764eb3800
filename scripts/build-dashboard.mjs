#!/usr/bin/env node
// Builds the dashboard (dashboard/ -> dashboard/dist) when dist is missing or
// older than any of its sources; `--force` builds regardless. Used by
// `npm start` (scripts/start.mjs) and the dashboard tests.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = new URL('..', import.meta.url).pathname
const dashboard = join(root, 'dashboard')
const built = join(dashboard, 'dist', 'index.html')

function newestSource(path) {
  const s = statSync(path)
  if (!s.isDirectory()) return s.mtimeMs
  return Math.max(
    0,
    ...readdirSync(path)
      .filter((name) => name !== 'dist' && name !== 'node_modules')
      .map((name) => newestSource(join(path, name))),
  )
}

/** Whether dashboard/dist exists and is newer than every file it is built from. */
export function dashboardIsCurrent() {
  return existsSync(built) && statSync(built).mtimeMs >= newestSource(dashboard)
}

/** Builds unless current (or always, with force). Returns whether it built. */
export async function buildDashboard({ force = false, quiet = false } = {}) {
  if (!force && dashboardIsCurrent()) return false
  if (!quiet) console.log('Building the dashboard (dashboard/dist)…')
  const { build } = await import('vite')
  await build({ configFile: join(dashboard, 'vite.config.ts'), logLevel: quiet ? 'error' : 'warn' })
  return true
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildDashboard({ force: process.argv.includes('--force'), quiet: process.argv.includes('--quiet') })
}
