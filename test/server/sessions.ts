/**
 * Dashboard sessions: a random id in the cookie (never the key), stored
 * hashed in the database so every server on it accepts it, expiring, ended
 * by signing out and by revoking its key; a CSRF token of its own; changes
 * made with the cookie only from this server's pages (Origin); Secure over
 * HTTPS as the trusted proxy reports it.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { TestClock } from '../../src/core/clock.js'
import { type Client, type Driver, json, type Server, useServer } from './harness.js'

export interface SignedIn {
  cookie: string
  csrf: string
  setCookie: string[]
}

/** Signs in with `key` on `client`'s server; the session cookie as a browser would send it back. */
export async function signIn(client: Client, key: string, headers: Record<string, string> = {}) {
  const r = await client.call(null, 'POST', '/api/v1/session', { key }, headers)
  assert.equal(r.status, 200, r.text)
  const setCookie = r.headers.getSetCookie()
  const session = setCookie.find((c) => c.startsWith('docket_session='))
  assert.ok(session, `no session cookie in ${JSON.stringify(setCookie)}`)
  return { cookie: session.split(';')[0]!, csrf: r.body.csrfToken as string, setCookie }
}

const sessionId = (cookie: string) => cookie.slice('docket_session='.length)

export function sessionsSuite(driver: Driver): void {
  describe(`server: sessions [${driver}]`, () => {
    // Sessions expire by the database's clock: the expiry test moves it instead of sleeping.
    const clock = new TestClock()
    const s: Server = useServer(driver, {}, { clock })
    const change = (who: SignedIn, name: string, headers: Record<string, string> = {}) =>
      s.call(
        null,
        'POST',
        '/api/v1/queues',
        { name },
        {
          cookie: who.cookie,
          'x-csrf-token': who.csrf,
          origin: s.base,
          ...headers,
        },
      )

    it('keeps a random session id in the cookie, never the key, and stores only its hash', async () => {
      const a = await signIn(s.client, s.keys.admin)
      const id = sessionId(a.cookie)
      assert.ok(!a.setCookie.join('\n').includes(s.keys.admin), 'the cookie holds the API key')
      assert.ok(id.length >= 40, `a short session id: ${id}`)
      assert.match(a.setCookie.find((c) => c.startsWith('docket_session='))!, /HttpOnly; SameSite=Strict/)
      const hash = createHash('sha256').update(id).digest('hex')
      assert.equal((await s.docket.access.findSession(hash))?.key.name, 'root')
      assert.equal(await s.docket.access.findSession(id), null, 'the raw id is not what is stored')
      const me = await s.ok(200, null, 'GET', '/api/v1/session', undefined, { cookie: a.cookie })
      assert.equal(me.name, 'root')
      assert.equal(me.csrfToken, a.csrf)
      assert.ok(Date.parse(me.expiresAt) > Date.now())
      assert.equal((await change(a, 'made-with-a-session')).status, 201)
    })

    it('ends the session on sign-out: the same cookie sent again opens nothing', async () => {
      const a = await signIn(s.client, s.keys.alice)
      await s.ok(200, null, 'GET', '/api/v1/jobs', undefined, { cookie: a.cookie })
      const out = await s.call(null, 'DELETE', '/api/v1/session', undefined, {
        cookie: a.cookie,
        origin: s.base,
      })
      assert.equal(out.status, 200)
      assert.ok(out.headers.getSetCookie().some((c) => /^docket_session=;.*Max-Age=0/.test(c)))
      await s.fail(401, 'UNAUTHENTICATED', null, 'GET', '/api/v1/jobs', undefined, { cookie: a.cookie })
      const again = await s.call(null, 'GET', '/api/v1/session', undefined, { cookie: a.cookie })
      assert.equal(again.status, 401)
      assert.ok(
        again.headers.getSetCookie().some((c) => /^docket_session=;/.test(c)),
        'a dead cookie is cleared',
      )
    })

    it('ends every session of a key when the key is revoked', async () => {
      const made = await s.ok(201, 'admin', 'POST', '/api/v1/keys', { name: 'dora', role: 'user' })
      const one = await signIn(s.client, made.key)
      const two = await signIn(s.client, made.key)
      await s.ok(200, null, 'GET', '/api/v1/jobs', undefined, { cookie: one.cookie })
      await s.ok(200, 'admin', 'DELETE', `/api/v1/keys/${made.id}`)
      for (const session of [one, two])
        await s.fail(401, 'UNAUTHENTICATED', null, 'GET', '/api/v1/jobs', undefined, {
          cookie: session.cookie,
        })
      await s.fail(401, 'UNAUTHENTICATED', null, 'POST', '/api/v1/session', { key: made.key })
    })

    it('expires a session after its lifetime', async () => {
      const short = await s.spare({ sessionTtlMs: 300 })
      try {
        const a = await signIn(short.client, s.keys.bob)
        await short.client.ok(200, null, 'GET', '/api/v1/jobs', undefined, { cookie: a.cookie })
        clock.advance(450)
        await short.client.fail(401, 'UNAUTHENTICATED', null, 'GET', '/api/v1/jobs', undefined, {
          cookie: a.cookie,
        })
      } finally {
        await short.close()
      }
    })

    it('binds the CSRF token to its session: another session’s token, or none, is refused', async () => {
      const one = await signIn(s.client, s.keys.admin)
      const two = await signIn(s.client, s.keys.admin)
      assert.notEqual(one.csrf, two.csrf)
      const before = await s.snapshot()
      for (const token of [two.csrf, '', 'x'.repeat(43)]) {
        const r = await change(one, 'forged', { 'x-csrf-token': token })
        assert.equal(r.status, 403, r.text)
        assert.match(r.body.error.message, /x-csrf-token/)
      }
      const r = await s.call(
        null,
        'POST',
        '/api/v1/queues',
        { name: 'forged' },
        { cookie: one.cookie, origin: s.base },
      )
      assert.equal(r.status, 403)
      assert.deepEqual(await s.snapshot(), before)
      assert.equal((await change(two, 'with-its-own-token')).status, 201)
    })

    it('is accepted by every server on the database, CSRF token included', async () => {
      const other = await s.spare()
      try {
        const a = await signIn(s.client, s.keys.admin)
        const me = await other.client.ok(200, null, 'GET', '/api/v1/session', undefined, { cookie: a.cookie })
        assert.equal(me.csrfToken, a.csrf)
        const r = await other.client.call(
          null,
          'POST',
          '/api/v1/queues',
          { name: 'across-servers' },
          {
            cookie: a.cookie,
            'x-csrf-token': a.csrf,
            origin: other.client.base,
          },
        )
        assert.equal(r.status, 201, r.text)
        await other.client.ok(200, null, 'DELETE', '/api/v1/session', undefined, { cookie: a.cookie })
        await s.fail(401, 'UNAUTHENTICATED', null, 'GET', '/api/v1/queues', undefined, { cookie: a.cookie })
      } finally {
        await other.close()
      }
    })

    it('takes changes made with the cookie only from this server’s pages (Origin)', async () => {
      const a = await signIn(s.client, s.keys.admin)
      const before = await s.snapshot()
      for (const origin of ['https://evil.example', 'null', 'http://127.0.0.1:1', 'not a url']) {
        const r = await change(a, 'from-elsewhere', { origin })
        assert.equal(r.status, 403, `${origin}: ${r.text}`)
        assert.equal(r.body.error.code, 'FORBIDDEN')
      }
      const missing = await s.call(
        null,
        'POST',
        '/api/v1/queues',
        { name: 'no-origin' },
        {
          cookie: a.cookie,
          'x-csrf-token': a.csrf,
        },
      )
      assert.equal(missing.status, 403)
      assert.match(missing.body.error.message, /Origin/)
      // Signing in and out from another site's page is refused too.
      await s.fail(
        403,
        'FORBIDDEN',
        null,
        'POST',
        '/api/v1/session',
        { key: s.keys.admin },
        {
          origin: 'https://evil.example',
        },
      )
      await s.fail(403, 'FORBIDDEN', null, 'DELETE', '/api/v1/session', undefined, {
        cookie: a.cookie,
        origin: 'https://evil.example',
      })
      await s.ok(200, null, 'GET', '/api/v1/session', undefined, { cookie: a.cookie })
      assert.deepEqual(await s.snapshot(), before)
      // A key in the header is not a browser's ambient credential: no Origin needed.
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'by-key' })
      // An origin the server is told to allow.
      const allowing = await s.spare({ allowedOrigins: ['https://ops.example'] })
      try {
        const r = await allowing.client.call(
          null,
          'POST',
          '/api/v1/queues',
          { name: 'from-ops' },
          {
            cookie: a.cookie,
            'x-csrf-token': a.csrf,
            origin: 'https://ops.example',
          },
        )
        assert.equal(r.status, 201, r.text)
      } finally {
        await allowing.close()
      }
    })

    it('compares the Origin’s scheme, host and port alike; with publicUrl, with that origin only', async () => {
      const a = await signIn(s.client, s.keys.admin)
      const { host, port } = new URL(s.base)
      const before = await s.snapshot()
      // The same host and port over another scheme is another origin (the server is plain HTTP here).
      for (const origin of [
        `https://${host}`,
        `https://127.0.0.1:${port}`,
        `ws://${host}`,
        `http://localhost:${port}`,
      ]) {
        const r = await change(a, 'other-scheme', { origin })
        assert.equal(r.status, 403, `${origin}: ${r.text}`)
      }
      // A default port written out is the same origin.
      const http80 = await s.spare()
      try {
        const r = await http80.client.call(
          null,
          'POST',
          '/api/v1/queues',
          { name: 'default-port' },
          { cookie: a.cookie, 'x-csrf-token': a.csrf, host: '127.0.0.1', origin: 'http://127.0.0.1:80' },
        )
        assert.equal(r.status, 201, r.text)
      } finally {
        await http80.close()
      }
      // Behind a trusted proxy, without publicUrl, X-Forwarded-Host and -Proto name the server's origin
      // (documented: trust only a proxy that overwrites them); with publicUrl, only it counts.
      const forged = { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }
      const proxied = await s.spare({ trustProxy: true })
      const pinned = await s.spare({ trustProxy: true, publicUrl: 'https://docket.example/dashboard' })
      try {
        const send = (client: Client, name: string, origin: string, headers = {}) =>
          client.call(
            null,
            'POST',
            '/api/v1/queues',
            { name },
            { cookie: a.cookie, 'x-csrf-token': a.csrf, origin, ...headers },
          )
        assert.equal((await send(proxied.client, 'forwarded', 'https://evil.example', forged)).status, 201)
        assert.equal((await send(pinned.client, 'pinned-forged', 'https://evil.example', forged)).status, 403)
        assert.equal((await send(pinned.client, 'pinned-own-host', s.base)).status, 403)
        assert.equal((await send(pinned.client, 'pinned-http', 'http://docket.example')).status, 403)
        assert.equal((await send(pinned.client, 'pinned', 'https://docket.example', forged)).status, 201)
        assert.equal((await send(pinned.client, 'pinned-443', 'https://docket.example:443')).status, 201)
      } finally {
        await proxied.close()
        await pinned.close()
      }
      const made = (await s.snapshot()).queues.map((q: { name: string }) => q.name)
      assert.deepEqual(
        made.filter((n: string) => !before.queues.some((q: { name: string }) => q.name === n)).sort(),
        ['default-port', 'forwarded', 'pinned', 'pinned-443'],
      )
      await assert.rejects(() => s.spare({ publicUrl: 'ftp://docket.example' }), /publicUrl must be an http/)
    })

    it('sets Secure on the cookie over HTTPS as a trusted proxy reports it, and only then', async () => {
      const https = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'docket.example' }
      const secure = (setCookie: string[]) =>
        setCookie.filter((c) => c.startsWith('docket_session=')).every((c) => /; Secure/.test(c))
      assert.equal(
        secure((await signIn(s.client, s.keys.admin, https)).setCookie),
        false,
        'no proxy is trusted',
      )
      const behind = await s.spare({ trustProxy: '127.0.0.1' })
      try {
        const a = await signIn(behind.client, s.keys.admin, https)
        assert.equal(secure(a.setCookie), true)
        assert.equal(secure((await signIn(behind.client, s.keys.admin)).setCookie), false, 'plain HTTP')
        // The Origin check compares with the public host the proxy reports.
        const r = await behind.client.call(
          null,
          'POST',
          '/api/v1/queues',
          { name: 'via-proxy' },
          {
            ...https,
            cookie: a.cookie,
            'x-csrf-token': a.csrf,
            origin: 'https://docket.example',
          },
        )
        assert.equal(r.status, 201, r.text)
      } finally {
        await behind.close()
      }
    })

    it('clears the cookie of earlier versions, which held the raw key, and no longer accepts it', async () => {
      const a = await signIn(s.client, s.keys.admin)
      assert.ok(a.setCookie.some((c) => /^docket_key=;.*Max-Age=0/.test(c)))
      const legacy = `docket_key=${encodeURIComponent(s.keys.admin)}`
      await s.fail(401, 'UNAUTHENTICATED', null, 'GET', '/api/v1/queues', undefined, { cookie: legacy })
      await s.fail(400, 'INVALID_ARGUMENT', null, 'POST', '/api/v1/session', { key: '' }, json)
    })
  })
}
