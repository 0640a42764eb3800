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
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { announceFirstKey, dataDirectory, FIRST_KEY_FILE } from '../../src/cli/serve.js'
import { Docket } from '../../src/index.js'
import { createKey } from '../../src/server/auth.js'
import { startServe } from '../deploy/serve.js'
import { findPostgres, freshPostgresSchema } from '../support/postgres.js'
import { until } from '../worker/harness.js'
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

// Issue 33: the first start printed its admin key on stdout, so it landed in
// whatever keeps the server's output (journald, container logs, CI).
describe("reliability: the first start's admin key stays out of logs", () => {
  const dir = mkdtempSync(join(tmpdir(), 'docket-first-key-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const KEY = /dk_[A-Za-z0-9_-]{6}_[A-Za-z0-9_-]{26}/

  it('with stdout not a terminal, `docket serve` writes it to <data dir>/first-admin-key (0600) and prints only where', async () => {
    const db = join(dir, 'served', 'docket.db')
    const file = join(dir, 'served', FIRST_KEY_FILE)
    const first = await startServe(['--db', db, '--log-level', 'warn'])
    try {
      await until(async () => first.output().includes('First start'), 10_000, 'the first-start notice')
      assert.doesNotMatch(first.output(), KEY, 'no key in the output')
      assert.ok(first.output().includes(file), `the output names ${file}: ${first.output()}`)
      assert.equal(lstatSync(file).mode & 0o777, 0o600, 'only the owner can read it')
      const key = readFileSync(file, 'utf8').trim()
      assert.match(key, KEY)
      const keys = await fetch(`${first.base}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } })
      assert.equal(keys.status, 200, 'it is an admin key')
    } finally {
      await first.stop()
    }
    // A second start has a key already: nothing new, nothing rewritten.
    const written = readFileSync(file, 'utf8')
    const second = await startServe(['--db', db, '--log-level', 'warn'])
    await second.stop()
    assert.doesNotMatch(second.output(), /First start/)
    assert.equal(readFileSync(file, 'utf8'), written)
  })

  it('on a terminal it is printed once and no file is written', async () => {
    const db = join(dir, 'terminal', 'docket.db')
    const docket = await Docket.open(db)
    try {
      const lines: string[] = []
      const { key, file } = await announceFirstKey(docket, { db, terminal: true, log: (l) => lines.push(l) })
      assert.equal(file, null)
      assert.ok(lines.join('\n').includes(key))
      assert.ok(!existsSync(join(dir, 'terminal', FIRST_KEY_FILE)))
    } finally {
      await docket.close()
    }
  })

  it('replaces a file left at that name without following a symlink planted there', async () => {
    const db = join(dir, 'planted', 'docket.db')
    const docket = await Docket.open(db)
    const decoy = join(dir, 'decoy')
    writeFileSync(decoy, 'decoy\n', { mode: 0o644 })
    symlinkSync(decoy, join(dir, 'planted', FIRST_KEY_FILE))
    try {
      const { key, file } = await announceFirstKey(docket, { db, terminal: false, log: () => {} })
      assert.equal(file, join(dir, 'planted', FIRST_KEY_FILE))
      assert.equal(readFileSync(decoy, 'utf8'), 'decoy\n', 'the symlink target is untouched')
      assert.ok(lstatSync(file!).isFile(), 'a regular file, not the symlink')
      assert.equal(lstatSync(file!).mode & 0o777, 0o600)
      assert.equal(readFileSync(file!, 'utf8'), `${key}\n`)
    } finally {
      await docket.close()
    }
    assert.equal(dataDirectory('postgres://u@h/db'), resolve('data'), 'PostgreSQL: ./data')
  })
})
