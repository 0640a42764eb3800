/**
 * Two `docket serve` processes on one PostgreSQL database, as behind a load
 * balancer: nothing a request leaves behind may live in one process. Each
 * server runs in a directory of its own, so a file kept on local disk would
 * be missing on the other. A job and its file go in through A; a remote
 * worker claims the job, reads the file and completes it through B; the
 * file comes back through B; B's live feed shows what A wrote (and A's what
 * B wrote); a dashboard session begun on A works on B, and ends on both.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Docket } from '../../src/index.js'
import { createKey } from '../../src/server/auth.js'
import { SseStream } from '../server/sse.js'
import { freshPostgresSchema } from '../support/postgres.js'
import { type Served, startServe } from './serve.js'

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies in tests are read field by field
type Json = Record<string, any>

describe('deploy: two servers on one PostgreSQL database', () => {
  let a: Served
  let b: Served
  let drop: () => Promise<void>
  const dirs: string[] = []
  const keys = { admin: '', alice: '', worker: '' }
  const streams: SseStream[] = []

  before(async () => {
    const fresh = await freshPostgresSchema()
    drop = fresh.drop
    const setup = await Docket.open(fresh.url)
    await setup.createQueue({ name: 'shared' })
    keys.admin = (await createKey(setup, 'root', 'admin')).key
    keys.alice = (await createKey(setup, 'alice', 'user')).key
    keys.worker = (await createKey(setup, 'box', 'worker')).key
    await setup.close()
    const own = () => {
      const dir = mkdtempSync(join(tmpdir(), 'docket-two-servers-'))
      dirs.push(dir)
      return dir
    }
    ;[a, b] = await Promise.all([
      startServe(['--db', fresh.url], { cwd: own() }),
      startServe(['--db', fresh.url], { cwd: own() }),
    ])
  })

  after(async () => {
    await Promise.all(streams.map((s) => s.close()))
    await Promise.all([a?.stop(), b?.stop()])
    await drop?.()
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  const call = async (
    server: Served,
    method: string,
    path: string,
    init: { key?: string; json?: unknown; body?: FormData; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...init.headers }
    if (init.key) headers.authorization = `Bearer ${init.key}`
    if (init.json !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(`${server.base}${path}`, {
      method,
      headers,
      body: init.body ?? (init.json === undefined ? undefined : JSON.stringify(init.json)),
    })
    const type = response.headers.get('content-type') ?? ''
    const body = type.includes('json')
      ? ((await response.json()) as Json)
      : Buffer.from(await response.arrayBuffer())
    return { status: response.status, headers: response.headers, body: body as Json & Buffer }
  }

  it('says on start that files are kept in the database', () => {
    for (const s of [a, b]) assert.match(s.output(), /on postgres, files in database/)
  })

  it('a job and its file added through A are claimed, read and completed by a remote worker through B', async () => {
    const feedB = await SseStream.open(`${b.base}/api/v1/events`, keys.admin)
    const feedA = await SseStream.open(`${a.base}/api/v1/events`, keys.admin)
    streams.push(feedA, feedB)
    await Promise.all([feedA.comment('connected'), feedB.comment('connected')])

    const bytes = Buffer.from(`the document, ${'x'.repeat(3 * 1024 * 1024)} and its end`)
    const form = new FormData()
    form.set('job', JSON.stringify({ queue: 'shared', type: 'ocr', payload: { pages: 3 } }))
    form.set('file', new Blob([bytes], { type: 'text/plain' }), 'scan.txt')
    const added = await call(a, 'POST', '/api/v1/jobs/upload', { key: keys.alice, body: form })
    assert.equal(added.status, 201, JSON.stringify(added.body))
    const job = added.body.job
    const artifact = added.body.artifacts[0]
    assert.equal(artifact.sha256, createHash('sha256').update(bytes).digest('hex'))

    // B's feed shows the job A added.
    await feedB.until(
      (m) => m.some((e) => e.data.jobId === job.id && e.event === 'job.added'),
      10_000,
      'job.added on B',
    )

    // A remote worker, only ever talking to B.
    assert.equal(
      (
        await call(b, 'POST', '/api/v1/workers', {
          key: keys.worker,
          json: { id: 'remote-1', queues: ['shared'] },
        })
      ).status,
      201,
    )
    const claimed = await call(b, 'POST', '/api/v1/workers/remote-1/claim', {
      key: keys.worker,
      json: { queues: ['shared'] },
    })
    assert.equal(claimed.status, 200, JSON.stringify(claimed.body))
    assert.deepEqual(
      claimed.body.jobs.map((j: Json) => j.id),
      [job.id],
    )
    const token = claimed.body.jobs[0].lease.token
    const listed = await call(b, 'GET', `/api/v1/jobs/${job.id}/artifacts?token=${token}`, {
      key: keys.worker,
    })
    assert.deepEqual(
      listed.body.artifacts.map((f: Json) => f.id),
      [artifact.id],
    )
    const read = await call(b, 'GET', `/api/v1/artifacts/${artifact.id}?token=${token}`, { key: keys.worker })
    assert.equal(read.status, 200)
    assert.ok(read.body.equals(bytes), 'the worker read the file A stored, through B')
    assert.equal(read.headers.get('x-checksum-sha256'), artifact.sha256)

    const progress = await call(b, 'POST', `/api/v1/jobs/${job.id}/progress`, {
      key: keys.worker,
      json: { token, percent: 50, message: 'half way' },
    })
    assert.equal(progress.status, 200, JSON.stringify(progress.body))
    const done = await call(b, 'POST', `/api/v1/jobs/${job.id}/complete`, {
      key: keys.worker,
      json: { token, result: { text: 'ocr output' } },
    })
    assert.equal(done.status, 200, JSON.stringify(done.body))

    // The owner downloads the file through B, and sees the job finished through A.
    const download = await call(b, 'GET', `/api/v1/artifacts/${artifact.id}`, { key: keys.alice })
    assert.equal(download.status, 200)
    assert.ok(download.body.equals(bytes), 'the file comes back whole through B')
    const seen = await call(a, 'GET', `/api/v1/jobs/${job.id}`, { key: keys.alice })
    assert.equal(seen.body.status, 'completed')
    assert.deepEqual(seen.body.result, { text: 'ocr output' })

    // Each feed shows the whole story, whichever server wrote each part.
    const story = ['job.added', 'job.started', 'job.progress', 'job.completed']
    for (const feed of [feedA, feedB]) {
      await feed.until(
        () => feed.kinds(job.id).includes('job.completed'),
        10_000,
        'job.completed on the feed',
      )
      assert.deepEqual(
        feed.kinds(job.id).filter((k) => story.includes(k)),
        story,
      )
    }
  })

  it('a dashboard session begun on A is accepted by B, for reads and for changes, and ends on both', async () => {
    const signIn = await call(a, 'POST', '/api/v1/session', { json: { key: keys.alice } })
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body))
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!
    assert.match(cookie, /^docket_session=/)
    const csrf = signIn.body.csrfToken

    const who = await call(b, 'GET', '/api/v1/session', { headers: { cookie } })
    assert.equal(who.status, 200, JSON.stringify(who.body))
    assert.equal(who.body.name, 'alice')
    assert.equal(who.body.csrfToken, csrf, 'the CSRF token is the session’s, on every server')
    const jobs = await call(b, 'GET', '/api/v1/jobs', { headers: { cookie } })
    assert.equal(jobs.status, 200)
    assert.ok(jobs.body.jobs.length >= 1)

    const change = { cookie, 'x-csrf-token': csrf, origin: b.base }
    const made = await call(b, 'POST', '/api/v1/jobs', {
      headers: change,
      json: { queue: 'shared', type: 'via-b' },
    })
    assert.equal(made.status, 201, JSON.stringify(made.body))
    assert.equal(made.body.owner, 'alice')
    const forged = await call(b, 'POST', '/api/v1/jobs', {
      headers: { ...change, 'x-csrf-token': 'not-the-token' },
      json: { queue: 'shared', type: 'forged' },
    })
    assert.equal(forged.status, 403)

    const signOut = await call(b, 'DELETE', '/api/v1/session', { headers: { cookie, origin: b.base } })
    assert.equal(signOut.status, 200)
    for (const s of [a, b]) {
      const after = await call(s, 'GET', '/api/v1/session', { headers: { cookie } })
      assert.equal(after.status, 401, `${s.base} still accepts a session ended on B`)
    }
  })

  it('logs one line per request, without the lease token of a query string', () => {
    const lines = b
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Json)
    const requests = lines.filter((l) => l.method !== undefined)
    assert.ok(requests.length >= 8, `B logged ${requests.length} request lines`)
    for (const r of requests) {
      assert.equal(typeof r.status, 'number')
      assert.equal(typeof r.ms, 'number')
      assert.ok(!r.path.includes('?'), r.path)
    }
    assert.ok(!b.output().includes('token='), 'a lease token from a query string reached the log')
    assert.equal(lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed').length, 0)
  })
})
