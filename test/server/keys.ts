/**
 * API keys over HTTP (admin only; the key shown once), in the OpenAPI
 * document, and `last_used_at`, written at most once a minute per key.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { storeOf } from '../../src/docket/store-of.js'
import { type Driver, type Json, sleep, UNKNOWN_ID, useServer } from './harness.js'

export function keysSuite(driver: Driver): void {
  describe(`server: API keys [${driver}]`, () => {
    const s = useServer(driver)

    it('lets an admin mint a key (shown once), list keys without secrets, and revoke one', async () => {
      const made = await s.ok(201, 'admin', 'POST', '/api/v1/keys', { name: 'render-box', role: 'worker' })
      assert.match(made.key, /^dk_[A-Za-z0-9_-]{6}_[A-Za-z0-9_-]{26}$/)
      assert.equal(made.key.slice(0, 9), made.prefix)
      assert.deepEqual(
        { name: made.name, role: made.role, lastUsedAt: made.lastUsedAt, revokedAt: made.revokedAt },
        { name: 'render-box', role: 'worker', lastUsedAt: null, revokedAt: null },
      )
      const listing = await s.call('admin', 'GET', '/api/v1/keys')
      assert.equal(listing.status, 200)
      assert.ok(!listing.text.includes(made.key), 'the listing shows a key')
      const listed = (listing.body.keys as Json[]).find((k) => k.id === made.id)
      const { key: _shownOnce, ...record } = made
      assert.deepEqual(listed, record)

      // The new key works at once, as a worker key.
      const worker = { authorization: `Bearer ${made.key}` }
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'q' })
      await s.ok(201, null, 'POST', '/api/v1/workers', { id: 'w-minted', queues: ['q'] }, worker)
      await s.fail(403, 'FORBIDDEN', null, 'GET', '/api/v1/keys', undefined, worker)

      await s.ok(200, 'admin', 'DELETE', `/api/v1/keys/${made.id}`)
      await s.fail(401, 'UNAUTHENTICATED', null, 'GET', '/api/v1/workers', undefined, worker)
      const after = ((await s.ok(200, 'admin', 'GET', '/api/v1/keys')).keys as Json[]).find(
        (k) => k.id === made.id,
      )
      assert.ok(after?.revokedAt, 'a revoked key stays listed, with when it was revoked')
      await s.fail(404, 'NOT_FOUND', 'admin', 'DELETE', `/api/v1/keys/${made.id}`)
      await s.fail(404, 'NOT_FOUND', 'admin', 'DELETE', `/api/v1/keys/${UNKNOWN_ID}`)
    })

    it('refuses every other role with 403 and no key with 401, changing nothing', async () => {
      const before = ((await s.ok(200, 'admin', 'GET', '/api/v1/keys')).keys as Json[]).length
      const victim = ((await s.ok(200, 'admin', 'GET', '/api/v1/keys')).keys as Json[]).find(
        (k) => !k.revokedAt,
      )
      const calls: [string, string, unknown?][] = [
        ['GET', '/api/v1/keys'],
        ['POST', '/api/v1/keys', { name: 'intruder', role: 'admin' }],
        ['DELETE', `/api/v1/keys/${victim!.id}`],
      ]
      for (const [method, path, body] of calls) {
        for (const who of ['alice', 'worker'] as const) {
          const error = await s.fail(403, 'FORBIDDEN', who, method, path, body)
          assert.deepEqual(error.details.allowed, ['admin'])
        }
        await s.fail(401, 'UNAUTHENTICATED', null, method, path, body)
      }
      const keys = (await s.ok(200, 'admin', 'GET', '/api/v1/keys')).keys as Json[]
      assert.equal(keys.length, before)
      assert.equal(keys.find((k) => k.id === victim!.id)!.revokedAt, null)
    })

    it('refuses bad key input with 400, and a name already held by another role with 409', async () => {
      const before = ((await s.ok(200, 'admin', 'GET', '/api/v1/keys')).keys as Json[]).length
      for (const body of [
        {},
        { name: '' },
        { name: '   ' },
        { name: 'x'.repeat(101) },
        { name: 'tab\there' },
        { name: 'ok', role: 'root' },
        { name: 'ok', extra: 1 },
      ]) {
        const error = await s.fail(400, 'INVALID_ARGUMENT', 'admin', 'POST', '/api/v1/keys', body)
        assert.ok(error.details.issues.length > 0, JSON.stringify(body))
      }
      const conflict = await s.fail(409, 'CONFLICT', 'admin', 'POST', '/api/v1/keys', {
        name: 'alice',
        role: 'admin',
      })
      assert.match(conflict.message, /alice.*user/)
      assert.equal(((await s.ok(200, 'admin', 'GET', '/api/v1/keys')).keys as Json[]).length, before)
      // A user's second key: same principal, so it sees the same jobs.
      const second = await s.ok(201, 'admin', 'POST', '/api/v1/keys', { name: 'alice' })
      assert.equal(second.role, 'user')
    })

    it('marks when a key was last used, without a write per request', async () => {
      const made = await s.ok(201, 'admin', 'POST', '/api/v1/keys', { name: 'eve', role: 'user' })
      const store = storeOf(s.docket)
      const original = store.markApiKeyUsed
      let writes = 0
      store.markApiKeyUsed = (id) => {
        if (id === made.id) writes++
        return original.call(store, id)
      }
      try {
        const eve = { authorization: `Bearer ${made.key}` }
        for (let i = 0; i < 30; i++) await s.ok(200, null, 'GET', '/api/v1/jobs', undefined, eve)
        let lastUsed: string | null = null
        for (let i = 0; i < 100 && !lastUsed; i++) {
          const keys = (await s.ok(200, 'admin', 'GET', '/api/v1/keys')).keys as Json[]
          lastUsed = keys.find((k) => k.id === made.id)!.lastUsedAt
          if (!lastUsed) await sleep(20)
        }
        assert.ok(lastUsed, 'last_used_at is still NULL after 30 requests')
        assert.ok(Math.abs(Date.parse(lastUsed) - Date.now()) < 60_000, lastUsed)
        assert.equal(writes, 1, 'thirty requests in a minute wrote last_used_at more than once')
        // A session counts as a use of its key too (and is still within the minute: no new write).
        const signIn = await s.call(null, 'POST', '/api/v1/session', { key: made.key })
        assert.equal(signIn.status, 200)
        assert.equal(writes, 1)
      } finally {
        store.markApiKeyUsed = original
      }
    })

    it('describes the keys routes in the OpenAPI document: admin only, 403 for others', async () => {
      const spec = await s.ok(200, null, 'GET', '/api/v1/openapi.json')
      const keys = spec.paths['/api/v1/keys']
      const one = spec.paths['/api/v1/keys/{id}']
      assert.ok(keys?.get && keys?.post && one?.delete, Object.keys(spec.paths).join(' '))
      for (const op of [keys.get, keys.post, one.delete]) {
        assert.match(op.description, /Admin only.*403/)
        assert.ok(op.responses['403'], `${op.summary}: no 403 response`)
        assert.ok(op.responses['401'], `${op.summary}: no 401 response`)
      }
      assert.ok(keys.post.responses['201'], 'POST /keys documents its 201')
      assert.match(JSON.stringify(keys.post.responses['201']), /CreatedApiKey/)
      assert.match(
        spec.components.schemas.CreatedApiKey.properties.key.description,
        /shown in this response only/,
      )
      assert.ok(one.delete.responses['404'])
    })
  })
}
