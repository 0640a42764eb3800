/**
 * A planted secret never leaves the process: `docket serve` runs on a
 * PostgreSQL URL whose password is a marker (the test server trusts
 * loopback, so any password works), logs at trace level, and is driven
 * through every kind of request, keys in headers and cookies included. Its
 * whole output and every response must hold neither the password nor any
 * API key. The CLI failing to reach a database must not print the password
 * either.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Docket } from '../../src/index.js'
import { createKey } from '../../src/server/auth.js'
import { findPostgres, freshPostgresSchema } from '../support/postgres.js'
import { figure, freePort } from './support.js'

const root = join(import.meta.dirname, '..', '..')

describe('reliability: a planted secret never appears in logs or responses', () => {
  let server: ChildProcess | undefined
  let drop: (() => Promise<void>) | undefined
  after(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGKILL')
      await new Promise((r) => server!.once('exit', r))
    }
    await drop?.()
  })

  it('docket serve at trace level, driven through every kind of request', async () => {
    const planted = `planted-${randomBytes(8).toString('hex')}`
    const found = await findPostgres()
    const fresh = await freshPostgresSchema()
    drop = fresh.drop
    const url = new URL(fresh.url)
    // A server that asks for a password has a real one in the URL: that is then the secret to look for.
    const secret = url.password || planted
    url.username ||= 'postgres'
    url.password = secret
    const dbUrl = url.toString()

    const setup = await Docket.open(dbUrl)
    await setup.createQueue({ name: 'sec' })
    const keys = {
      admin: (await createKey(setup, 'root', 'admin')).key,
      alice: (await createKey(setup, 'alice', 'user')).key,
      worker: (await createKey(setup, 'box', 'worker')).key,
    }
    await setup.close()

    const port = await freePort()
    server = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'serve',
        '--db',
        dbUrl,
        '--port',
        String(port),
        '--log-level',
        'trace',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    server.stdout!.on('data', (c: Buffer) => {
      output += c.toString()
    })
    server.stderr!.on('data', (c: Buffer) => {
      output += c.toString()
    })
    await new Promise<void>((resolve, reject) => {
      server!.stdout!.on('data', () => output.includes('Docket is serving') && resolve())
      server!.once('exit', (code) => reject(new Error(`docket serve exited with ${code}: ${output}`)))
    })

    const base = `http://127.0.0.1:${port}`
    const responses: string[] = []
    const call = async (path: string, init: RequestInit = {}) => {
      const r = await fetch(`${base}${path}`, init)
      const isStream = (r.headers.get('content-type') ?? '').includes('event-stream')
      const text = isStream ? '' : await r.text()
      if (isStream) await r.body?.cancel()
      // Signing in hands the caller's own key back as its httpOnly session cookie, by design: not a leak.
      const headers = [...r.headers].filter(([h]) => !(path === '/api/v1/session' && h === 'set-cookie'))
      responses.push(`${path} ${r.status} ${JSON.stringify(headers)} ${text}`)
      return { status: r.status, text, headers: r.headers }
    }
    const bearer = (key: string, more: Record<string, string> = {}) => ({
      authorization: `Bearer ${key}`,
      ...more,
    })
    const json = { 'content-type': 'application/json' }

    await call('/health')
    await call('/ready')
    await call('/api/v1/openapi.json')
    await call('/metrics', { headers: bearer(keys.admin) })
    await call('/api/v1/stats', { headers: bearer(keys.admin) })
    await call('/api/v1/workers', { headers: bearer(keys.admin) })
    await call('/api/v1/queues', { headers: { 'x-api-key': keys.alice } })
    await call('/api/v1/nothing-here', { headers: bearer(keys.alice) })
    await call('/api/v1/jobs?status=bogus', { headers: bearer(keys.alice) })
    await call('/api/v1/jobs', { headers: bearer(`${keys.alice}x`) })
    const job = await call('/api/v1/jobs', {
      method: 'POST',
      headers: bearer(keys.alice, json),
      body: JSON.stringify({ queue: 'sec', type: 't', payload: { n: 1 } }),
    })
    assert.equal(job.status, 201)
    const session = await call('/api/v1/session', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ key: keys.alice }),
    })
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!
    await call('/api/v1/session', { headers: { cookie } })
    await call('/api/v1/jobs', { headers: { cookie } })
    const form = new FormData()
    form.set('job', JSON.stringify({ queue: 'sec', type: 'file' }))
    form.set('file', new Blob(['hello'], { type: 'text/plain' }), 'in.txt')
    await call('/api/v1/jobs/upload', { method: 'POST', headers: bearer(keys.alice), body: form })
    await call('/api/v1/workers', {
      method: 'POST',
      headers: bearer(keys.worker, json),
      body: JSON.stringify({ id: 'w1', queues: ['sec'] }),
    })
    const claimed = await call('/api/v1/workers/w1/claim', {
      method: 'POST',
      headers: bearer(keys.worker, json),
      body: JSON.stringify({ queues: ['sec'] }),
    })
    const leased = JSON.parse(claimed.text).jobs[0]
    await call(`/api/v1/jobs/${leased.id}/complete`, {
      method: 'POST',
      headers: bearer(keys.worker, json),
      body: JSON.stringify({ token: leased.lease.token, result: { ok: true } }),
    })
    await call('/api/v1/events?after=0', { headers: bearer(keys.admin) })
    server.kill('SIGTERM')
    await new Promise((r) => server!.once('exit', r))

    // The CLI failing to reach a database prints why, and not the password.
    const unreachable = `postgres://postgres:${planted}@127.0.0.1:1/test`
    const failures = ['serve', 'migrate'].map((command) => {
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          command,
          '--db',
          unreachable,
          ...(command === 'serve' ? ['--port', '0'] : []),
        ],
        { cwd: root, encoding: 'utf8', timeout: 60_000 },
      )
      return { command, status: r.status, text: `${r.stdout}${r.stderr}` }
    })

    const everything = [output, ...responses, ...failures.map((f) => f.text)].join('\n')
    const leaked = [secret, planted, ...Object.values(keys)].filter((s) => everything.includes(s))
    figure('planted-secret', {
      driver: 'postgres',
      source: found.source,
      logBytes: output.length,
      responses: responses.length,
      leaks: leaked.length,
    })
    assert.ok(output.length > 5_000, 'trace logging produced almost nothing: the test saw too little')
    assert.match(output, /\[redacted\]/, 'the credentials in logged headers were censored')
    for (const f of failures) {
      assert.equal(f.status, 3, `docket ${f.command} on an unreachable database: ${f.text}`)
      assert.match(f.text, /ECONNREFUSED|connect/i)
    }
    const where = leaked.map((l) => {
      const at = everything.indexOf(l)
      return everything.slice(Math.max(0, at - 300), at + 80)
    })
    assert.deepEqual(
      leaked.map((s) =>
        s === secret || s === planted ? 'the database password' : `an API key (${s.slice(0, 9)}…)`,
      ),
      [],
      where.join('\n---\n'),
    )
  })
})
