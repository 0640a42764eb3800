/**
 * Access, beyond test/server/access.ts (which checks 401/403/404 answers on a
 * hand-written list of endpoints); feeds.test.ts does the live feed.
 *
 *   - 0 leaks: every GET route the OpenAPI document lists (so routes added
 *     later too), with every id, as every kind of caller, never shows one
 *     user another user's canary (see access-world.ts), nor a worker key
 *     without a lease token any (access-ids.test.ts tries every route with
 *     an id, every method, with and without the lease);
 *   - SQL-injection strings in every filter, sort, name and id: refused (400)
 *     or harmless (a literal match), and the tables intact;
 *   - oversized, too many and path-traversal uploads: refused, or stored under
 *     Docket's own key with a cleaned name, and nothing written elsewhere;
 *   - no API key in any log line (pino output captured at trace level).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { OpenAPIV3 } from 'openapi-types'
import type { Json, Who } from '../server/harness.js'
import { type AccessWorld, accessWorld } from './access-world.js'
import type { TestServer } from './server.js'
import { DRIVERS, figure, sleep } from './support.js'

const CALLERS: Who[] = ['admin', 'alice', 'bob', 'worker', 'revoked', 'bogus', null]
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
    let w: AccessWorld
    let s: TestServer
    let A: string
    let B: string
    let ids: Record<string, string>
    let forbidden: AccessWorld['forbidden']
    let checks = 0
    before(async () => {
      w = await accessWorld(driver)
      ;({ s, A, B, ids, forbidden } = w)
    })
    after(async () => {
      await w?.s.close()
    })

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

    it('refuses or defuses SQL injection in every filter, sort, name and id', async () => {
      const c = s.client
      const before = await s.docket.countJobs()
      const keysBefore = (await s.docket.access.listApiKeys()).length
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
      assert.equal((await s.docket.access.listApiKeys()).length, keysBefore, 'the keys are as they were')
      figure('access-sql-injection', { driver, probes: paths.length * 2 + SQL.length * 2, ...outcomes })
    })

    it('refuses oversized and too many uploads, and keeps traversal names out of the filesystem', async () => {
      const storage = s.docket.artifacts
      const storedKeys = async () =>
        (await storage.list()).map((k) => (k.partial ? `${k.key}.partial` : k.key))
      const before = await storedKeys()
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
      // Claimed through the server by the worker key, which holds the lease (lease-binding.ts).
      await s.client.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-up', queues: ['acl-out'] })
      const [leased] = (
        await s.client.ok(200, 'worker', 'POST', '/api/v1/workers/w-up/claim', { queues: ['acl-out'] })
      ).jobs as Json[]
      const overOutput = await upload(
        'worker',
        `/api/v1/jobs/${leased!.id}/artifacts`,
        { token: leased!.lease.token },
        [['big.txt', big]],
      )
      assert.equal(overOutput.status, 413)
      assert.deepEqual((await s.docket.countJobs()).acl, jobsBefore, 'a refused upload made a job')
      assert.deepEqual(await storedKeys(), before, `a refused upload left a file behind (${storage.kind})`)

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
      const after = await storedKeys()
      assert.equal(after.length, before.length + names.length)
      for (const f of after)
        assert.match(
          f,
          /^([0-9a-f]{2}\/|db:|s3:)[0-9a-f-]{36}$/,
          `a file stored outside Docket's own keys: ${f}`,
        )
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
      assert.ok(w.log().length > 10_000, `the log is suspiciously short (${w.log().length} characters)`)
      const found = Object.entries(s.keys).filter(([, key]) => w.log().includes(key))
      figure('access-log-secrets', { driver, logBytes: w.log().length, keysInLog: found.length, checks })
      const lines = found.flatMap(([, key]) =>
        w
          .log()
          .split('\n')
          .filter((l) => l.includes(key)),
      )
      assert.deepEqual(
        found.map(([who]) => who),
        [],
        `log lines with a key: ${lines.slice(0, 3).join('\n').slice(0, 1500)}`,
      )
    })
  })
}
