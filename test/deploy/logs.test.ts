/**
 * What `docket serve` logs per request: at info, one JSON line each (method,
 * path without its query string, status, ms), and no Fastify "incoming
 * request" / "request completed" pair; at warn, none; with
 * `--log-format pretty` (the default on a terminal), pino-pretty's text.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type Served, startServe } from './serve.js'

const SECRET = 'lease-token-that-must-not-be-logged'

describe('deploy: request logs of docket serve', () => {
  const dirs: string[] = []
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })
  const serve = async (...args: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'docket-logs-'))
    dirs.push(dir)
    return startServe(['--db', join(dir, 'docket.db'), '--no-auth', ...args])
  }
  /** Sends five requests, one of them with a secret in its query string; returns the output once the server stopped. */
  const drive = async (s: Served) => {
    await fetch(`${s.base}/health`)
    await fetch(`${s.base}/api/v1/queues`)
    await fetch(`${s.base}/api/v1/jobs?token=${SECRET}&status=bogus`)
    await fetch(`${s.base}/api/v1/queues`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'logged' }),
    })
    await fetch(`${s.base}/no/such/page`)
    await s.stop()
    return s.output()
  }

  it('logs one JSON line per request at info, without the query string', async () => {
    const output = await drive(await serve('--log-level', 'info', '--log-format', 'json'))
    const lines = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const requests = lines.filter((l) => 'method' in l)
    assert.deepEqual(
      requests.map((r) => [r.method, r.path, r.status]),
      [
        ['GET', '/health', 200],
        ['GET', '/api/v1/queues', 200],
        ['GET', '/api/v1/jobs', 400],
        ['POST', '/api/v1/queues', 201],
        ['GET', '/no/such/page', 404],
      ],
    )
    for (const r of requests) {
      assert.equal(r.level, 30)
      assert.equal(typeof r.ms, 'number')
      assert.equal(r.msg, `${r.method} ${r.path} ${r.status} ${r.ms} ms`)
    }
    assert.equal(lines.filter((l) => /incoming request|request completed/.test(String(l.msg))).length, 0)
    assert.ok(!output.includes(SECRET), 'the query string reached the log')
  })

  it('logs no request at warn', async () => {
    const output = await drive(await serve('--log-level', 'warn', '--log-format', 'json'))
    assert.ok(!output.includes('"method"'), output)
    assert.ok(!output.includes('/api/v1/queues'), output)
  })

  it('logs pretty text, one line per request, with --log-format pretty', async () => {
    const output = await drive(await serve('--log-format', 'pretty'))
    const lines = output.split('\n').filter((l) => l.includes('/api/v1/queues'))
    assert.equal(lines.length, 2, output)
    for (const line of lines) {
      assert.ok(!line.trimStart().startsWith('{'), `not pretty: ${line}`)
      assert.match(line, /INFO.*(GET|POST) \/api\/v1\/queues 20[01] [\d.]+ ms/)
    }
    assert.ok(!output.includes(SECRET))
  })
})
