/**
 * The access matrix by id: every route of the OpenAPI document with an id in
 * its path (so routes added later too), every method, tried as an admin, as
 * the object's owner, as another user, as the worker holding the job's lease,
 * as a worker key without it, and as another worker key. A caller who is not
 * entitled must get exactly the answer an id that does not exist gets (the
 * ids masked), never a canary, and change nothing; each such difference is a
 * leak, and the test counts them (0). Entitled callers must reach the object
 * (no 404), each on a fresh one, since their calls change it.
 */
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { OpenAPIV3 } from 'openapi-types'
import { createKey } from '../../src/server/auth.js'
import { type Json, UNKNOWN_ID } from '../server/harness.js'
import { startServer, type TestServer } from './server.js'
import { DRIVERS, figure } from './support.js'

type Kind = 'job' | 'lease' | 'files' | 'artifact' | 'batch' | 'schedule' | 'worker' | 'registry' | 'key'
type Caller =
  | 'admin'
  | 'owner'
  | 'other-user'
  | 'worker-with-lease'
  | 'worker-without-lease'
  | 'other-worker'
  | 'other-worker-with-token'
const CALLERS: Caller[] = [
  'admin',
  'owner',
  'other-user',
  'worker-with-lease',
  'worker-without-lease',
  'other-worker',
  'other-worker-with-token',
]

/** What a route's id names, and so who is entitled to it. */
function kindOf(method: string, path: string): Kind {
  if (path.startsWith('/api/v1/keys/')) return 'key'
  // Forgetting a worker is the operator's care of the registry, not the worker's own call.
  if (path === '/api/v1/workers/{id}/remove') return 'registry'
  if (path.startsWith('/api/v1/workers/')) return 'worker'
  if (path.startsWith('/api/v1/batches/')) return 'batch'
  if (path.startsWith('/api/v1/schedules/')) return 'schedule'
  if (path.startsWith('/api/v1/artifacts/')) return 'artifact'
  // Read with the job's lease by a worker key, or as the job's owner: its files and its upstream results.
  if (method === 'GET' && (path.endsWith('/artifacts') || path.endsWith('/upstream'))) return 'files'
  if (/\/(heartbeat|release|progress|events|complete|fail|snooze|artifacts)$/.test(path)) return 'lease'
  return 'job'
}

const ENTITLED: Record<Caller, Kind[]> = {
  admin: ['job', 'lease', 'files', 'artifact', 'batch', 'schedule', 'worker', 'registry', 'key'],
  owner: ['job', 'files', 'artifact', 'batch', 'schedule'],
  'other-user': [],
  'worker-with-lease': ['lease', 'files', 'artifact', 'worker'],
  'worker-without-lease': ['worker'],
  'other-worker': [],
  // The token the first key's worker received, in another worker key's hands: as a wrong token.
  'other-worker-with-token': [],
}

/** One of alice's everything: a job with an input file, leased to a worker the `worker` key registered, and a batch. */
interface Fixture {
  queue: string
  job: string
  token: string
  artifact: string
  batch: string
  /** One of alice's schedules (paused, so it never runs by itself here). */
  schedule: string
  worker: string
  /** An API key (admin only): revoking it is the route. */
  key: string
}

for (const driver of DRIVERS) {
  describe(`reliability: every route with an id, every caller [${driver}]`, () => {
    let s: TestServer
    let otherWorkerKey: string
    const A = `CANARY-A-${randomBytes(6).toString('hex')}`

    async function fresh(): Promise<Fixture> {
      const queue = `acl-${randomBytes(4).toString('hex')}`
      const worker = `w-${queue}`
      await s.client.ok(201, 'admin', 'POST', '/api/v1/queues', { name: queue })
      // A finished job it depends on, whose result the upstream route shows.
      await s.docket.createQueue({ name: `${queue}-up` })
      const before = await s.docket.add({ queue: `${queue}-up`, type: 'up', owner: 'alice' })
      const [up] = await s.docket.workers.claim({ workerId: `up-${queue}`, queues: [`${queue}-up`] })
      await s.docket.workers.complete(up!, { canary: A })
      const { job } = await s.docket.addWithFiles(
        { queue, type: 'doc', owner: 'alice', payload: { canary: A }, dependsOn: [before.id] },
        [{ name: `${A}.txt`, mediaType: 'text/plain', data: Buffer.from(`${A}-bytes`) }],
      )
      const { artifacts } = await s.docket.getJob(job.id)
      await s.client.ok(201, 'worker', 'POST', '/api/v1/workers', { id: worker, queues: [queue] })
      const claimed = await s.client.ok(200, 'worker', 'POST', `/api/v1/workers/${worker}/claim`, {
        queues: [queue],
      })
      assert.equal(claimed.jobs[0]?.id, job.id)
      const token = claimed.jobs[0].lease.token as string
      await s.client.ok(200, 'worker', 'POST', `/api/v1/jobs/${job.id}/progress`, {
        token,
        message: `${A}-progress`,
      })
      const batch = await s.client.ok(201, 'alice', 'POST', '/api/v1/batches', {
        name: `${A}-batch`,
        jobs: [{ queue, type: 'b', payload: { canary: A } }],
      })
      const schedule = await s.client.ok(201, 'alice', 'POST', '/api/v1/schedules', {
        name: `${A}-schedule-${queue}`,
        every: 3_600_000,
        queue,
        type: 's',
        payload: { canary: A },
        enabled: false,
      })
      const key = await s.client.ok(201, 'admin', 'POST', '/api/v1/keys', {
        name: `k-${queue}`,
        role: 'user',
      })
      return {
        queue,
        job: job.id,
        token,
        artifact: artifacts[0]!.id,
        batch: batch.batch.id,
        schedule: schedule.id,
        worker,
        key: key.id,
      }
    }

    /** The id the route's path takes, of the fixture or of nothing. */
    function idFor(kind: Kind, f: Fixture | null): string {
      if (kind === 'worker' || kind === 'registry') return f ? f.worker : 'w-never-registered'
      if (kind === 'batch') return f ? f.batch : UNKNOWN_ID
      if (kind === 'schedule') return f ? f.schedule : UNKNOWN_ID
      if (kind === 'key') return f ? f.key : UNKNOWN_ID
      if (kind === 'artifact') return f ? f.artifact : UNKNOWN_ID
      return f ? f.job : UNKNOWN_ID
    }

    /** Sends `method path` about `f` (null: an id that does not exist) as `caller`. */
    async function send(caller: Caller, method: string, path: string, f: Fixture | null, real: Fixture) {
      const kind = kindOf(method, path)
      const url = path.replace('{id}', idFor(kind, f))
      const token =
        caller === 'admin' || caller === 'worker-with-lease' || caller === 'other-worker-with-token'
          ? real.token
          : randomUUID()
      const otherWorker = caller === 'other-worker' || caller === 'other-worker-with-token'
      const who =
        caller === 'admin'
          ? 'admin'
          : caller === 'owner'
            ? 'alice'
            : caller === 'other-user'
              ? 'bob'
              : 'worker'
      const auth: Record<string, string> = otherWorker ? { authorization: `Bearer ${otherWorkerKey}` } : {}
      if (method === 'POST' && path.endsWith('/artifacts')) {
        const form = new FormData()
        form.set('token', token)
        form.set('file', new Blob(['out'], { type: 'text/plain' }), 'out.txt')
        const r = await fetch(`${s.base}${url}`, {
          method,
          headers: { authorization: auth.authorization ?? `Bearer ${s.keys[who]}` },
          body: form,
        })
        const text = await r.text()
        assert.notEqual(r.status, 500, text)
        return { status: r.status, text, url }
      }
      const bodies: Record<string, Json> = {
        'PATCH /api/v1/jobs/{id}': { priority: 1 },
        'PATCH /api/v1/schedules/{id}': { payload: { canary: A, changed: true } },
        'POST /api/v1/workers/{id}/heartbeat': { load: 0 },
        'POST /api/v1/workers/{id}/claim': { queues: [real.queue] },
        'POST /api/v1/jobs/{id}/heartbeat': { token },
        'POST /api/v1/jobs/{id}/release': { token },
        'POST /api/v1/jobs/{id}/progress': { token, percent: 5 },
        'POST /api/v1/jobs/{id}/events': { token, kind: 'log', message: 'x' },
        'POST /api/v1/jobs/{id}/complete': { token },
        'POST /api/v1/jobs/{id}/fail': { token, error: { message: 'x' } },
        'POST /api/v1/jobs/{id}/snooze': { token, delayMs: 0 },
      }
      const headers = {
        ...auth,
        ...(kind === 'files' || kind === 'artifact' ? { 'x-lease-token': token } : {}),
      }
      const r = await s.client.call(
        otherWorker ? null : who,
        method,
        url,
        bodies[`${method} ${path}`],
        headers,
      )
      return { status: r.status, text: r.text, url }
    }

    const snapshot = async () => ({
      jobs: (await s.client.ok(200, 'admin', 'GET', '/api/v1/jobs?limit=1000&sort=createdAt&order=asc')).jobs,
      workers: (await s.client.ok(200, 'admin', 'GET', '/api/v1/workers')).workers.map(
        ({ heartbeatAgeMs: _, ...w }: Json) => w,
      ),
      batches: (await s.client.ok(200, 'admin', 'GET', '/api/v1/batches')).batches,
    })

    before(async () => {
      s = await startServer(driver)
      otherWorkerKey = (await createKey(s.docket, 'cpu-box', 'worker')).key
    })
    after(async () => {
      await s?.close()
    })

    it('answers every caller who is not entitled exactly as for an id that does not exist: 0 leaks', async () => {
      const spec = s.app.swagger() as OpenAPIV3.Document
      const routes = Object.entries(spec.paths).flatMap(([path, item]) =>
        path.includes('{id}')
          ? (['get', 'post', 'patch', 'delete'] as const)
              .filter((m) => item?.[m])
              .map((m) => [m.toUpperCase(), path] as const)
          : [],
      )
      assert.ok(routes.length >= 22, `only ${routes.length} routes with an id`)
      const f = await fresh()
      const before = await snapshot()
      const leaks: string[] = []
      let tried = 0
      for (const [method, path] of routes)
        for (const caller of CALLERS) {
          if (ENTITLED[caller].includes(kindOf(method, path))) continue
          const theirs = await send(caller, method, path, f, f)
          const none = await send(caller, method, path, null, f)
          tried++
          const id = idFor(kindOf(method, path), f)
          const unknown = idFor(kindOf(method, path), null)
          const same =
            theirs.status === none.status &&
            theirs.text.replaceAll(id, '<id>') === none.text.replaceAll(unknown, '<id>')
          if (!same)
            leaks.push(
              `${caller} ${method} ${path}: ${theirs.status} ${theirs.text.slice(0, 200)} vs ${none.status} ${none.text.slice(0, 200)}`,
            )
          if (theirs.text.includes(A)) leaks.push(`${caller} ${method} ${path} showed alice's canary`)
        }
      assert.deepEqual(await snapshot(), before, 'a caller who is not entitled changed something')
      figure('access-ids-denied', { driver, routes: routes.length, tried, leaks: leaks.length })
      assert.deepEqual(leaks, [])
    })

    it('lets every entitled caller reach the object on every route with an id (no 404)', async () => {
      const spec = s.app.swagger() as OpenAPIV3.Document
      let reached = 0
      for (const [path, item] of Object.entries(spec.paths)) {
        if (!path.includes('{id}')) continue
        for (const method of (['get', 'post', 'patch', 'delete'] as const).filter((m) => item?.[m])) {
          const M = method.toUpperCase()
          for (const caller of CALLERS) {
            if (!ENTITLED[caller].includes(kindOf(M, path))) continue
            const f = await fresh()
            const r = await send(caller, M, path, f, f)
            const state = r.status === 409 && JSON.parse(r.text).error.code === 'INVALID_STATE'
            assert.ok(
              (r.status >= 200 && r.status < 300) || state,
              `${caller} ${M} ${r.url}: ${r.status} ${r.text.slice(0, 300)}`,
            )
            if (M === 'GET' && caller !== 'admin')
              assert.ok(r.text.includes(A), `${caller} ${M} ${path} did not see the data`)
            reached++
          }
        }
      }
      figure('access-ids-entitled', { driver, reached })
    })
  })
}
