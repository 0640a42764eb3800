/**
 * The access matrix: user A (alice), user B (bob), an admin, a worker key, no
 * key, a key that never existed and a revoked key, against every endpoint.
 * A user asking for someone else's job or batch is told exactly what they
 * would be told about one that does not exist.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { type Client, type Driver, type Json, type Reply, UNKNOWN_ID, useServer } from './harness.js'
import { allPages } from './jobs.js'

type Role = 'admin' | 'user' | 'worker'
interface Endpoint {
  method: string
  path: string
  body?: unknown
  roles: Role[]
}

const READ: Role[] = ['admin', 'user']
const ADMIN: Role[] = ['admin']
const WORK: Role[] = ['admin', 'worker']
const ALL: Role[] = ['admin', 'user', 'worker']

/** Every endpoint that needs a key, with a plausible request for each. */
function endpoints(job: string, batch: string, schedule: string): Endpoint[] {
  const J = `/api/v1/jobs/${job}`
  const S = `/api/v1/schedules/${schedule}`
  const token = { token: 'not-the-token' }
  return [
    { method: 'GET', path: '/api/v1/queues', roles: READ },
    { method: 'POST', path: '/api/v1/queues', body: { name: 'made-by-intruder' }, roles: ADMIN },
    { method: 'GET', path: '/api/v1/queues/acl', roles: ALL },
    { method: 'PATCH', path: '/api/v1/queues/acl', body: { concurrency: 1 }, roles: ADMIN },
    { method: 'DELETE', path: '/api/v1/queues/acl?force=true', roles: ADMIN },
    { method: 'POST', path: '/api/v1/queues/acl/pause', roles: ADMIN },
    { method: 'POST', path: '/api/v1/queues/acl/resume', roles: ADMIN },
    { method: 'POST', path: '/api/v1/queues/acl/promote', roles: ADMIN },
    { method: 'GET', path: '/api/v1/queues/acl/stats', roles: ADMIN },
    { method: 'GET', path: '/api/v1/stats', roles: ADMIN },
    { method: 'GET', path: '/metrics', roles: ADMIN },
    { method: 'POST', path: '/api/v1/jobs', body: { queue: 'acl', type: 'x' }, roles: READ },
    { method: 'POST', path: '/api/v1/jobs/bulk', body: { jobs: [{ queue: 'acl', type: 'x' }] }, roles: READ },
    { method: 'GET', path: '/api/v1/jobs', roles: READ },
    { method: 'GET', path: '/api/v1/jobs/suggestions', roles: READ },
    { method: 'GET', path: J, roles: READ },
    { method: 'PATCH', path: J, body: { priority: 1 }, roles: READ },
    { method: 'DELETE', path: J, roles: READ },
    { method: 'POST', path: `${J}/cancel`, roles: READ },
    { method: 'POST', path: `${J}/retry`, roles: READ },
    { method: 'POST', path: `${J}/promote`, roles: READ },
    { method: 'POST', path: '/api/v1/jobs/upload', body: { queue: 'acl', type: 'x' }, roles: READ },
    { method: 'GET', path: `${J}/artifacts`, roles: ALL },
    { method: 'POST', path: `${J}/artifacts`, body: token, roles: WORK },
    { method: 'GET', path: `/api/v1/artifacts/${UNKNOWN_ID}`, roles: ALL },
    { method: 'POST', path: '/api/v1/batches', body: { jobs: [{ queue: 'acl', type: 'x' }] }, roles: READ },
    { method: 'GET', path: `/api/v1/batches/${batch}`, roles: READ },
    { method: 'POST', path: `/api/v1/batches/${batch}/cancel`, roles: READ },
    { method: 'POST', path: `/api/v1/batches/${batch}/retry`, roles: READ },
    { method: 'GET', path: '/api/v1/schedules', roles: READ },
    {
      method: 'POST',
      path: '/api/v1/schedules',
      body: { name: 'intruder', every: 60_000, queue: 'acl', type: 'x' },
      roles: READ,
    },
    { method: 'GET', path: S, roles: READ },
    { method: 'PATCH', path: S, body: { payload: { by: 'intruder' } }, roles: READ },
    { method: 'DELETE', path: S, roles: READ },
    { method: 'POST', path: `${S}/pause`, roles: READ },
    { method: 'POST', path: `${S}/resume`, roles: READ },
    { method: 'POST', path: `${S}/run`, roles: READ },
    { method: 'GET', path: '/api/v1/workers', roles: ADMIN },
    { method: 'POST', path: '/api/v1/workers', body: { queues: ['acl'] }, roles: WORK },
    { method: 'POST', path: '/api/v1/workers/w-acl/heartbeat', body: { load: 9 }, roles: WORK },
    { method: 'DELETE', path: '/api/v1/workers/w-acl', roles: WORK },
    { method: 'POST', path: '/api/v1/workers/w-acl/remove', roles: ADMIN },
    {
      method: 'POST',
      path: '/api/v1/workers/w-acl/claim',
      body: { queues: ['acl'], limit: 100 },
      roles: WORK,
    },
    { method: 'POST', path: `${J}/heartbeat`, body: token, roles: WORK },
    { method: 'POST', path: `${J}/progress`, body: { ...token, percent: 50 }, roles: WORK },
    { method: 'POST', path: `${J}/events`, body: { ...token, kind: 'log', message: 'x' }, roles: WORK },
    { method: 'POST', path: `${J}/complete`, body: token, roles: WORK },
    { method: 'POST', path: `${J}/fail`, body: { ...token, error: { message: 'x' } }, roles: WORK },
    { method: 'GET', path: '/api/v1/events', roles: READ },
    { method: 'GET', path: '/api/v1/keys', roles: ADMIN },
    { method: 'POST', path: '/api/v1/keys', body: { name: 'intruder', role: 'admin' }, roles: ADMIN },
    { method: 'DELETE', path: `/api/v1/keys/${UNKNOWN_ID}`, roles: ADMIN },
  ]
}

/** The error with the id in it replaced, to compare answers about two different ids. */
const masked = (error: Json, id: string) => JSON.parse(JSON.stringify(error).replaceAll(id, '<id>')) as Json

export function accessSuite(driver: Driver): void {
  describe(`server: access [${driver}]`, () => {
    const s = useServer(driver)
    let aliceJob: Json
    let aliceBatch: Json
    let bobJob: Json
    let all: Endpoint[]
    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'acl' })
      aliceJob = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'acl', type: 't', priority: 60 })
      const made = await s.ok(201, 'alice', 'POST', '/api/v1/batches', {
        jobs: [{ queue: 'acl', type: 'b' }],
      })
      aliceBatch = made.batch
      bobJob = await s.ok(201, 'bob', 'POST', '/api/v1/jobs', { queue: 'acl', type: 't' })
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-acl', queues: ['acl'] })
      const aliceSchedule = await s.ok(201, 'alice', 'POST', '/api/v1/schedules', {
        name: 'acl-nightly',
        cron: '0 3 * * *',
        queue: 'acl',
        type: 't',
      })
      all = endpoints(aliceJob.id, aliceBatch.id, aliceSchedule.id)
    })

    it('answers 401 to no key, an unknown key and a revoked key on every endpoint, changing nothing', async () => {
      const before = await s.snapshot()
      // Each app counts failed authentications; a fresh one every few calls stays under the limit.
      let spare: { client: Client; close(): Promise<void> } | null = null
      let calls = 0
      const attempts: [string, Record<string, string>][] = [
        ['no key', {}],
        ['unknown key', { authorization: `Bearer ${s.keys.bogus}` }],
        ['revoked key', { authorization: `Bearer ${s.keys.revoked}` }],
        ['unknown x-api-key', { 'x-api-key': s.keys.bogus }],
        ['empty bearer', { authorization: 'Bearer ' }],
        ['basic auth', { authorization: `Basic ${Buffer.from('root:admin').toString('base64')}` }],
      ]
      for (const e of all)
        for (const [what, headers] of attempts) {
          if (calls++ % 20 === 0) {
            await spare?.close()
            spare = await s.spare()
          }
          const r: Reply = await spare!.client.call(null, e.method, e.path, e.body, headers)
          assert.equal(r.status, 401, `${what}: ${e.method} ${e.path}: ${r.text}`)
          assert.equal(r.body.error.code, 'UNAUTHENTICATED')
        }
      await spare?.close()
      assert.deepEqual(await s.snapshot(), before)
    })

    it('answers 403 to a role the endpoint is not for: worker keys on queue and job routes, users on admin routes', async () => {
      const before = await s.snapshot()
      let denied = 0
      for (const e of all)
        for (const [who, role] of [
          ['alice', 'user'],
          ['worker', 'worker'],
        ] as const) {
          if (e.roles.includes(role)) continue
          denied++
          const error = await s.fail(403, 'FORBIDDEN', who, e.method, e.path, e.body)
          assert.equal(error.details.role, role)
        }
      assert.ok(denied >= 40, `only ${denied} denials checked`)
      assert.deepEqual(await s.snapshot(), before)
    })

    it('hides another user’s job and batch: 404 exactly as for one that does not exist', async () => {
      const before = await s.snapshot()
      const J = '/api/v1/jobs'
      const B = '/api/v1/batches'
      const probes: [string, string, unknown?][] = [
        ['GET', `${J}/:id`],
        ['PATCH', `${J}/:id`, { priority: 1 }],
        ['DELETE', `${J}/:id`],
        ['POST', `${J}/:id/cancel`],
        ['POST', `${J}/:id/retry`],
        ['POST', `${J}/:id/promote`],
        ['GET', `${J}/:id/artifacts`],
      ]
      for (const [method, path, body] of probes) {
        const theirs = await s.fail(404, 'NOT_FOUND', 'bob', method, path.replace(':id', aliceJob.id), body)
        const none = await s.fail(404, 'NOT_FOUND', 'bob', method, path.replace(':id', UNKNOWN_ID), body)
        assert.deepEqual(masked(theirs, aliceJob.id), masked(none, UNKNOWN_ID), `${method} ${path}`)
      }
      for (const [method, path] of [
        ['GET', `${B}/:id`],
        ['POST', `${B}/:id/cancel`],
        ['POST', `${B}/:id/retry`],
      ] as const) {
        const theirs = await s.fail(404, 'NOT_FOUND', 'bob', method, path.replace(':id', aliceBatch.id))
        const none = await s.fail(404, 'NOT_FOUND', 'bob', method, path.replace(':id', UNKNOWN_ID))
        assert.deepEqual(masked(theirs, aliceBatch.id), masked(none, UNKNOWN_ID), `${method} ${path}`)
      }
      assert.deepEqual(await s.snapshot(), before, 'nothing bob tried changed alice’s job or batch')
      assert.equal((await s.ok(200, 'alice', 'GET', `${J}/${aliceJob.id}`)).priority, 60)
    })

    it('lists for a user only their own jobs, whatever the filters', async () => {
      for (const query of [
        'limit=1000',
        'queue=acl',
        'status=waiting,cancelled',
        'type=t',
        'owner=alice',
        `batchId=${aliceBatch.id}`,
        'sort=priority&order=desc',
      ]) {
        const jobs = (await s.ok(200, 'bob', 'GET', `/api/v1/jobs?${query}`)).jobs as Json[]
        assert.ok(
          jobs.every((j) => j.owner === 'bob'),
          `bob's ${query} listed ${jobs.map((j) => j.owner)}`,
        )
        if (!query.includes('alice') && !query.includes('batchId'))
          assert.ok(
            jobs.some((j) => j.id === bobJob.id),
            query,
          )
      }
      const pages = (await allPages(s, 'alice', 'limit=1')).flat()
      assert.ok(pages.length >= 2 && pages.every((j) => j.owner === 'alice'))
      assert.deepEqual((await s.ok(200, 'alice', 'GET', `/api/v1/jobs?owner=bob`)).jobs, [])
    })

    it("counts for a user only their own jobs in a queue's counts", async () => {
      const total = (c: Json) => Object.values(c).reduce((a: number, n) => a + Number(n), 0)
      const owned = async (who: 'alice' | 'bob') =>
        ((await s.ok(200, 'admin', 'GET', `/api/v1/jobs?queue=acl&owner=${who}&limit=1000`)).jobs as Json[])
          .length
      for (const who of ['alice', 'bob'] as const) {
        const one = await s.ok(200, who, 'GET', '/api/v1/queues/acl')
        const listed = (await s.ok(200, who, 'GET', '/api/v1/queues')).queues as Json[]
        const fromList = listed.find((q) => q.name === 'acl')!
        assert.equal(total(one.counts), await owned(who), `${who}'s counts`)
        assert.deepEqual(fromList.counts, one.counts)
      }
      const admin = await s.ok(200, 'admin', 'GET', '/api/v1/queues/acl')
      assert.ok(total(admin.counts) > total((await s.ok(200, 'bob', 'GET', '/api/v1/queues/acl')).counts))
    })

    it('refuses a user creating a job or batch owned by someone else (403), changing nothing', async () => {
      const before = await s.snapshot()
      const theirs = { queue: 'acl', type: 't', owner: 'alice' }
      await s.fail(403, 'FORBIDDEN', 'bob', 'POST', '/api/v1/jobs', theirs)
      await s.fail(403, 'FORBIDDEN', 'bob', 'POST', '/api/v1/jobs/bulk', {
        jobs: [{ queue: 'acl', type: 't' }, theirs],
      })
      await s.fail(403, 'FORBIDDEN', 'bob', 'POST', '/api/v1/batches', {
        owner: 'alice',
        jobs: [{ queue: 'acl', type: 't' }],
      })
      await s.fail(403, 'FORBIDDEN', 'bob', 'POST', '/api/v1/batches', { jobs: [theirs] })
      assert.deepEqual(await s.snapshot(), before)
      const own = await s.ok(201, 'bob', 'POST', '/api/v1/jobs', { queue: 'acl', type: 't', owner: 'bob' })
      assert.equal(own.owner, 'bob')
      await s.ok(200, 'bob', 'DELETE', `/api/v1/jobs/${own.id}`)
    })

    it('lets an admin see and steer everything', async () => {
      assert.equal((await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${aliceJob.id}`)).owner, 'alice')
      assert.equal((await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${bobJob.id}`)).owner, 'bob')
      assert.equal((await s.ok(200, 'admin', 'GET', `/api/v1/batches/${aliceBatch.id}`)).owner, 'alice')
      const owners = new Set(
        ((await s.ok(200, 'admin', 'GET', '/api/v1/jobs')).jobs as Json[]).map((j) => j.owner),
      )
      assert.deepEqual([...owners].sort(), ['alice', 'bob'])
      const alices = (await s.ok(200, 'admin', 'GET', '/api/v1/jobs?owner=alice')).jobs as Json[]
      assert.ok(alices.length === 2 && alices.every((j) => j.owner === 'alice'))
      assert.equal((await s.ok(200, 'admin', 'POST', `/api/v1/jobs/${bobJob.id}/cancel`)).status, 'cancelled')
      assert.equal((await s.ok(200, 'bob', 'GET', `/api/v1/jobs/${bobJob.id}`)).status, 'cancelled')
    })
  })
}
