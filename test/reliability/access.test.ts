/**
 * Access, beyond test/server/access.ts (which checks 401/403/404 answers on a
 * hand-written list of endpoints):
 *
 *   - 0 leaks: alice's and bob's jobs, batches, artifacts, results, progress
 *     and logs carry canary strings; every GET route the OpenAPI document
 *     lists (so routes added later too), with every id, as every kind of
 *     caller, must never show one user another user's canary; a worker key
 *     sees them only where the worker protocol hands out jobs' inputs;
 *   - every feed subscription, SSE and WebSocket, as every caller and with
 *     every filter: the same, and the WebSocket checks Origin, for a key and
 *     for a session cookie alike;
 *   - SQL-injection strings in every filter, sort and name: refused (400) or
 *     harmless (a literal match), and the tables intact;
 *   - oversized, too many and path-traversal uploads: refused, or stored under
 *     Docket's own key with a cleaned name, and nothing written elsewhere;
 *   - no API key in any log line (pino output captured at trace level).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import type { OpenAPIV3 } from 'openapi-types'
import WebSocket from 'ws'
import type { Json, Who } from '../server/harness.js'
import { startServer, type TestServer } from './server.js'
import { DRIVERS, figure, sleep } from './support.js'

const CALLERS: Who[] = ['admin', 'alice', 'bob', 'worker', 'revoked', 'bogus', null]
/** GET routes where a worker key reads any job's files: the worker protocol needs its inputs. */
const WORKER_READS = new Set(['/api/v1/jobs/{id}/artifacts', '/api/v1/artifacts/{id}'])
const SQL = [
  "' OR '1'='1",
  "' OR 1=1 --",
  "'; DROP TABLE jobs; --",
  "x' UNION SELECT id, hash, name FROM api_keys --",
  '" OR ""="',
  '1; SELECT pg_sleep(5)',
  "') OR ('a'='a",
  '%',
  '_',
  '\\',
]

for (const driver of DRIVERS) {
  describe(`reliability: access, leaks and injection [${driver}]`, () => {
    let log = ''
    const capture = new Writable({
      write(chunk, _encoding, done) {
        log += chunk.toString()
        done()
      },
    })
    let s: TestServer
    const A = `CANARY-A-${randomBytes(6).toString('hex')}`
    const B = `CANARY-B-${randomBytes(6).toString('hex')}`
    const ids: Record<string, string> = {}
    let checks = 0

    before(async () => {
      s = await startServer(driver, {
        logger: { level: 'trace', stream: capture },
        maxUploadBytes: 64 * 1024,
      })
      const c = s.client
      await c.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'acl' })
      // Each user: a finished job with a result, a running one with progress and logs, a batch, an input file.
      for (const [who, canary] of [
        ['alice', A],
        ['bob', B],
      ] as const) {
        const done = await c.ok(201, who, 'POST', '/api/v1/jobs', {
          queue: 'acl',
          type: 't',
          payload: { canary },
        })
        const running = await c.ok(201, who, 'POST', '/api/v1/jobs', {
          queue: 'acl',
          type: 't',
          payload: { canary },
        })
        const batch = await c.ok(201, who, 'POST', '/api/v1/batches', {
          name: `${canary}-batch`,
          jobs: [{ queue: 'acl', type: 't', payload: { canary } }],
        })
        const { artifacts } = await s.docket.addWithFiles(
          { queue: 'acl', type: 'file', owner: who, payload: { canary } },
          [{ name: `${canary}.txt`, mediaType: 'text/plain', data: Buffer.from(`${canary}-bytes`) }],
        )
        ids[`${who}Job`] = done.id
        ids[`${who}Running`] = running.id
        ids[`${who}Batch`] = batch.batch.id
        ids[`${who}Artifact`] = artifacts[0]!.id
      }
      // Leases and reports for every user's jobs, with canaries in progress, logs and results.
      for (const job of await s.docket.claim({ workerId: 'w-acl', queues: ['acl'], limit: 100 })) {
        const canary = (job.payload as { canary: string }).canary
        await s.docket.progress(job, { percent: 40, message: `${canary}-progress` })
        await s.docket.log(job, `${canary}-log`, { canary })
        if (job.id === ids.aliceJob || job.id === ids.bobJob) await s.docket.complete(job, { canary })
      }
    })
    after(async () => {
      await s?.close()
    })

    /** The canaries a caller must not see in `text`, on `route`. */
    const forbidden = (who: Who, route: string): string[] => {
      if (who === 'admin') return []
      if (who === 'alice') return [B]
      if (who === 'bob') return [A]
      if (who === 'worker' && WORKER_READS.has(route)) return []
      return [A, B]
    }

    it('shows no caller another user’s data on any GET route, with any id', async () => {
      const spec = s.app.swagger() as OpenAPIV3.Document
      const routes = Object.entries(spec.paths)
        .filter(([path, item]) => item?.get && path !== '/api/v1/events')
        .map(([path]) => path)
      const idsToTry = Object.values(ids)
      const queries: Record<string, string[]> = {
        '/api/v1/jobs': [
          '',
          '?owner=alice',
          '?owner=bob',
          '?queue=acl&limit=1000',
          '?status=active,completed',
          '?sort=priority',
        ],
        '/api/v1/batches': ['', '?owner=alice', '?owner=bob'],
      }
      let leaks = 0
      // Each spare app has its own failed-authentication limit: a fresh one every few refused callers.
      let spare = await s.spare()
      let refused = 0
      for (const route of routes) {
        const urls = route.includes('{id}')
          ? idsToTry.map((id) => route.replace('{id}', id))
          : route.includes('{name}')
            ? [route.replace('{name}', 'acl')]
            : (queries[route] ?? ['']).map((q) => `${route}${q}`)
        for (const url of urls)
          for (const who of CALLERS) {
            const anonymous = who === null || who === 'revoked' || who === 'bogus'
            if (anonymous && ++refused % 15 === 0) {
              await spare.close()
              spare = await s.spare()
            }
            const t0 = Date.now()
            const r = await (anonymous ? spare.client : s.client).call(who, 'GET', url)
            if (Date.now() - t0 > 300) console.log(`# slow: ${who} GET ${url} ${Date.now() - t0} ms`)
            checks++
            for (const canary of forbidden(who, route))
              if (r.text.includes(canary)) {
                leaks++
                assert.fail(
                  `${who ?? 'no key'} saw ${canary === A ? 'alice' : 'bob'}’s data on GET ${url}: ${r.text.slice(0, 300)}`,
                )
              }
            if (
              anonymous &&
              !['/health', '/ready', '/api/v1/session', '/api/v1/openapi.json'].includes(route)
            )
              assert.equal(r.status, 401, `${who ?? 'no key'} GET ${url} → ${r.status}`)
          }
      }
      await spare.close()
      // The admin, and each user, do see their own: the canaries are really there to be found.
      assert.ok(
        (await s.client.call('alice', 'GET', `/api/v1/jobs/${ids.aliceRunning}`)).text.includes(`${A}-log`),
      )
      assert.ok((await s.client.call('admin', 'GET', `/api/v1/jobs/${ids.bobJob}`)).text.includes(B))
      figure('access-routes', { driver, routes: routes.length, requests: checks, leaks })
    })

    it('streams no caller another user’s events, over SSE and WebSocket, with any filter; checks Origin', async () => {
      const port = new URL(s.base).port
      const filters = ['', '?queue=acl', `?jobId=${ids.aliceRunning}`, `?jobId=${ids.bobRunning}`]
      const session = async (key: string) => {
        const r = await fetch(`${s.base}/api/v1/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key }),
        })
        assert.equal(r.status, 200)
        return (r.headers.get('set-cookie') ?? '').split(';')[0]!
      }
      const bobCookie = await session(s.keys.bob)

      type Result = { status: number; text: string }
      const sse = async (who: Who, filter: string): Promise<Result> => {
        const controller = new AbortController()
        const headers: Record<string, string> = who ? { authorization: `Bearer ${s.keys[who]}` } : {}
        const response = await fetch(`${s.base}/api/v1/events${filter}${filter ? '&' : '?'}after=0`, {
          headers,
          signal: controller.signal,
        })
        let text = ''
        if (response.status === 200) {
          const reader = response.body!.getReader()
          const until = Date.now() + 400
          const timer = setTimeout(() => controller.abort(), 400)
          try {
            while (Date.now() < until) {
              const { value, done } = await reader.read()
              if (done) break
              text += Buffer.from(value).toString('utf8')
            }
          } catch {
            // aborted: the time is up
          } finally {
            clearTimeout(timer)
          }
        } else text = await response.text()
        return { status: response.status, text }
      }
      const ws = (headers: Record<string, string>, filter: string, origin?: string): Promise<Result> =>
        new Promise((resolve) => {
          const socket = new WebSocket(
            `ws://127.0.0.1:${port}/api/v1/events${filter}${filter ? '&' : '?'}after=0`,
            {
              headers,
              origin,
            },
          )
          let text = ''
          socket.on('message', (data) => {
            text += String(data)
          })
          socket.on('unexpected-response', (_req, res) => {
            let body = ''
            res.on('data', (c: Buffer) => {
              body += c.toString()
            })
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: body }))
          })
          socket.on('open', () => setTimeout(() => socket.close(), 400))
          socket.on('close', () => resolve({ status: 101, text }))
          socket.on('error', () => {})
        })

      let streams = 0
      let spare = await s.spare()
      let refused = 0
      const callers: Who[] = ['admin', 'alice', 'bob', 'worker', 'revoked', null]
      for (const filter of filters)
        for (const who of callers) {
          const anonymous = who === null || who === 'revoked'
          if (anonymous && ++refused % 8 === 0) {
            await spare.close()
            spare = await s.spare()
          }
          const viaSse = await sse(who, filter)
          const auth: Record<string, string> = who ? { authorization: `Bearer ${s.keys[who]}` } : {}
          const viaWs = await ws(auth, filter)
          for (const [how, r] of [
            ['SSE', viaSse],
            ['WebSocket', viaWs],
          ] as const) {
            streams++
            const what = `${how} ${filter || '(no filter)'} as ${who ?? 'no key'} → ${r.status}`
            for (const canary of forbidden(who, '/api/v1/events'))
              assert.ok(!r.text.includes(canary), `${what} leaked: ${r.text.slice(0, 300)}`)
            for (const key of Object.values(s.keys)) assert.ok(!r.text.includes(key), `${what} leaked a key`)
            if (anonymous) assert.equal(r.status, 401, what)
            if (who === 'worker') assert.equal(r.status, 403, what)
          }
          if (who === 'admin' && filter === '') assert.ok(viaWs.text.includes(A) && viaWs.text.includes(B))
          if (who === 'alice' && filter === '?queue=acl') assert.ok(viaSse.text.includes(`${A}-progress`))
        }
      await spare.close()

      // The Origin check: a foreign page must not ride on a key or a session cookie.
      const bobKey = { authorization: `Bearer ${s.keys.bob}` }
      const cookie = { cookie: bobCookie }
      const origins: [string | undefined, number][] = [
        [undefined, 101],
        [`http://127.0.0.1:${port}`, 101],
        ['http://evil.example', 403],
        [`http://127.0.0.1:${port}.evil.example`, 403],
        [`https://127.0.0.1:${Number(port) + 1}`, 403],
        ['null', 403],
      ]
      for (const [origin, status] of origins)
        for (const headers of [bobKey, cookie]) {
          const r = await ws(headers, '', origin)
          streams++
          assert.equal(
            r.status,
            status,
            `WebSocket from ${origin ?? 'no Origin'} with ${Object.keys(headers)}`,
          )
          assert.ok(!r.text.includes(A))
        }
      const allowing = await s.spare({ allowedOrigins: ['https://dashboard.example'] })
      const allowedPort = new URL(allowing.base).port
      const allowed = await new Promise<number>((resolve) => {
        const socket = new WebSocket(`ws://127.0.0.1:${allowedPort}/api/v1/events`, {
          headers: bobKey,
          origin: 'https://dashboard.example',
        })
        socket.on('open', () => {
          socket.close()
          resolve(101)
        })
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
        socket.on('error', () => {})
      })
      await allowing.close()
      assert.equal(allowed, 101, 'an origin listed in allowedOrigins is let in')
      figure('access-feeds', {
        driver,
        streams,
        leaks: 0,
        foreignOriginsRefused: origins.filter(([, status]) => status === 403).length * 2,
      })
    })

    it('refuses or defuses SQL injection in every filter, sort, name and id', async () => {
      const c = s.client
      const before = await s.docket.countJobs()
      const keysBefore = (await s.docket.store.listApiKeys()).length
      const paths: string[] = []
      for (const bad of SQL) {
        const q = encodeURIComponent(bad)
        paths.push(
          ...['queue', 'status', 'type', 'owner', 'batchId', 'cursor', 'sort', 'order', 'limit'].map(
            (k) => `/api/v1/jobs?${k}=${q}`,
          ),
          `/api/v1/batches?owner=${q}`,
          `/api/v1/batches?before=${q}`,
          `/api/v1/queues/${q}`,
          `/api/v1/queues/${q}/stats`,
          `/api/v1/jobs/${q}`,
          `/api/v1/batches/${q}`,
          `/api/v1/artifacts/${q}`,
        )
      }
      const outcomes = { refused: 0, harmless: 0 }
      for (const path of paths)
        for (const who of ['admin', 'bob'] as const) {
          const r = await c.call(who, 'GET', path)
          assert.ok([200, 400, 403, 404].includes(r.status), `${who} GET ${path} → ${r.status}: ${r.text}`)
          if (r.status === 200) {
            outcomes.harmless++
            // A literal match: no job has such a queue, type, owner or batch.
            if (path.startsWith('/api/v1/jobs?')) assert.deepEqual(r.body.jobs, [], `${who} GET ${path}`)
            if (path.startsWith('/api/v1/batches?owner')) assert.deepEqual(r.body.batches ?? [], [], path)
          } else outcomes.refused++
          checks++
        }
      // In bodies: stored and found literally, never executed.
      for (const bad of SQL) {
        const made = await c.call('alice', 'POST', '/api/v1/jobs', {
          queue: 'acl',
          type: bad,
          payload: { bad },
        })
        if (made.status === 201) {
          const found = await c.ok(200, 'alice', 'GET', `/api/v1/jobs?type=${encodeURIComponent(bad)}`)
          assert.deepEqual(
            found.jobs.map((j: Json) => j.id),
            [made.body.id],
          )
          assert.equal(found.jobs[0].type, bad)
          await c.ok(200, 'alice', 'DELETE', `/api/v1/jobs/${made.body.id}`)
        } else assert.equal(made.status, 400)
        await c.fail(400, 'INVALID_ARGUMENT', 'admin', 'POST', '/api/v1/queues', { name: bad })
        checks += 2
      }
      const afterCounts = await s.docket.countJobs()
      assert.deepEqual(afterCounts, before, 'the jobs are as they were')
      assert.equal((await s.docket.store.listApiKeys()).length, keysBefore, 'the keys are as they were')
      figure('access-sql-injection', { driver, probes: paths.length * 2 + SQL.length * 2, ...outcomes })
    })

    it('refuses oversized and too many uploads, and keeps traversal names out of the filesystem', async () => {
      const root = s.docket.artifacts.root
      const filesUnder = (dir: string): string[] => {
        try {
          return readdirSync(dir, { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => relative(root, join(e.parentPath, e.name)))
        } catch {
          return []
        }
      }
      const before = filesUnder(root)
      const jobsBefore = (await s.docket.countJobs()).acl!
      const upload = async (
        who: 'alice' | 'worker',
        path: string,
        fields: Record<string, string>,
        files: [string, Blob][],
      ) => {
        const form = new FormData()
        for (const [k, v] of Object.entries(fields)) form.set(k, v)
        for (const [name, blob] of files) form.append('file', blob, name)
        const r = await fetch(`${s.base}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${s.keys[who]}` },
          body: form,
        })
        const text = await r.text()
        assert.ok(r.status < 500, text)
        return { status: r.status, body: JSON.parse(text) as Json }
      }
      const job = { job: JSON.stringify({ queue: 'acl', type: 'upload' }) }
      const big = new Blob([Buffer.alloc(64 * 1024 + 1, 97)], { type: 'text/plain' })
      const small = (t = 'x') => new Blob([t], { type: 'text/plain' })

      const oversized = await upload('alice', '/api/v1/jobs/upload', job, [['big.txt', big]])
      assert.equal(oversized.status, 413)
      assert.equal(oversized.body.error.code, 'PAYLOAD_TOO_LARGE')
      const tooMany = await upload(
        'alice',
        '/api/v1/jobs/upload',
        job,
        Array.from({ length: 21 }, (_, i) => [`f${i}.txt`, small()] as [string, Blob]),
      )
      assert.equal(tooMany.status, 413)
      // A worker's output upload has the same limit.
      await s.docket.createQueue({ name: 'acl-out' })
      await s.docket.add('acl-out', 'out')
      const [leased] = await s.docket.claim({ workerId: 'w-up', queues: ['acl-out'], limit: 1 })
      const overOutput = await upload(
        'worker',
        `/api/v1/jobs/${leased!.id}/artifacts`,
        { token: leased!.lease.token },
        [['big.txt', big]],
      )
      assert.equal(overOutput.status, 413)
      assert.deepEqual((await s.docket.countJobs()).acl, jobsBefore, 'a refused upload made a job')
      assert.deepEqual(filesUnder(root), before, `a refused upload left a file behind (${root})`)

      const names = [
        '../../../../tmp/docket-escape.txt',
        '..\\..\\..\\docket-escape.txt',
        '/etc/docket-escape.txt',
        '....//....//docket-escape.txt',
        '%2e%2e%2fdocket-escape.txt',
        'a\u0000../docket-escape.txt',
        '..',
        '.hidden',
      ]
      const stored: Json[] = []
      for (const name of names) {
        const r = await upload('alice', '/api/v1/jobs/upload', job, [[name, small(name)]])
        assert.equal(r.status, 201, `${name}: ${JSON.stringify(r.body)}`)
        const artifact = r.body.artifacts[0]
        assert.ok(
          !artifact.name.includes('/') && !artifact.name.includes('\\') && !artifact.name.startsWith('.'),
          artifact.name,
        )
        stored.push(artifact)
        const download = await fetch(`${s.base}/api/v1/artifacts/${artifact.id}`, {
          headers: { authorization: `Bearer ${s.keys.alice}` },
        })
        assert.equal(await download.text(), name, 'the bytes come back as they went in')
        assert.match(download.headers.get('content-disposition') ?? '', /^attachment; filename="[^"/\\]*";/)
      }
      const after = filesUnder(root)
      assert.equal(after.length, before.length + names.length)
      for (const f of after)
        assert.match(f, /^[0-9a-f]{2}\/[0-9a-f-]{36}$/, `a file stored outside Docket's own keys: ${f}`)
      for (const traversal of ['..%2F..%2Fetc%2Fpasswd', '%2e%2e', '..'])
        assert.ok(
          [400, 404].includes((await s.client.call('alice', 'GET', `/api/v1/artifacts/${traversal}`)).status),
        )
      figure('access-uploads', {
        driver,
        oversizedRefused: 3,
        traversalNames: names.length,
        filesOutsideStore: 0,
      })
    })

    it('never writes an API key to the log', async () => {
      await sleep(100)
      assert.ok(log.length > 10_000, `the log is suspiciously short (${log.length} characters)`)
      const found = Object.entries(s.keys).filter(([, key]) => log.includes(key))
      figure('access-log-secrets', { driver, logBytes: log.length, keysInLog: found.length, checks })
      const lines = found.flatMap(([, key]) => log.split('\n').filter((l) => l.includes(key)))
      assert.deepEqual(
        found.map(([who]) => who),
        [],
        `log lines with a key: ${lines.slice(0, 3).join('\n').slice(0, 1500)}`,
      )
    })
  })
}
