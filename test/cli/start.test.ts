/**
 * `npm start` as a user runs it, then stopped the way a process manager stops
 * it: SIGTERM to the npm process only. The server must go with it, not stay
 * behind, orphaned, holding the port (issue 17).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { freePort } from '../reliability/support.js'
import { until } from '../worker/harness.js'

const ROOT = join(import.meta.dirname, '..', '..')

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok
  } catch {
    return false
  }
}

describe('npm start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docket-start-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('serves, and a SIGTERM to the npm process stops the server too', async () => {
    const port = await freePort()
    const npm = spawn('npm', ['start', '--', '--port', String(port), '--db', join(dir, 'docket.db')], {
      cwd: ROOT,
      env: { ...process.env, DOCKET_PIPELINE_PACE_MS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    npm.stdout.on('data', (d) => {
      output += d
    })
    npm.stderr.on('data', (d) => {
      output += d
    })
    const health = `http://127.0.0.1:${port}/health`
    try {
      await until(() => answers(health), 120_000, `npm start to serve ${health}`)
      assert.match(output, /Docket is serving http:\/\/127\.0\.0\.1:\d+/)
      const npmExited = new Promise((resolve) => npm.once('exit', resolve))
      npm.kill('SIGTERM')
      await npmExited
      await until(async () => !(await answers(health)), 15_000, 'the server to stop after npm did')
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL')
      // An orphaned server would hold these pipes open, and this test process with them.
      npm.stdout.destroy()
      npm.stderr.destroy()
    }
  })
})
