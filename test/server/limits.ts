/**
 * The edges of the server every response crosses: the failed-authentication
 * limiter (which never refuses a valid key), client addresses through a
 * trusted reverse proxy, the security headers, and a 415 that says what to
 * send.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { API_CSP, DOCS_CSP, PAGE_CSP } from '../../src/server/security-headers.js'
import { type Client, type Driver, type Reply, UNKNOWN_ID, useServer } from './harness.js'
import { signIn } from './sessions.js'

/** 20 failed authentications from the caller's address (or the address a proxy names). */
async function failTwenty(client: Client, headers: Record<string, string> = {}): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < 20; i++) {
    const who = (['bogus', 'revoked', null] as const)[i % 3]!
    statuses.push((await client.call(who, 'GET', '/api/v1/jobs', undefined, headers)).status)
  }
  return statuses
}

const retryAfter = (r: Reply) => {
  const seconds = Number(r.headers.get('retry-after'))
  assert.ok(
    Number.isInteger(seconds) && seconds >= 1 && seconds <= 60,
    `Retry-After: ${r.headers.get('retry-after')}`,
  )
  assert.equal(r.body.error.details.retryAfterSeconds, seconds)
  return seconds
}

export function limitsSuite(driver: Driver): void {
  describe(`server: limits and headers [${driver}]`, () => {
    const s = useServer(driver)

    it('after 20 failed authentications from an address, answers 429 with Retry-After to failing attempts only', async () => {
      const spare = await s.spare()
      try {
        assert.deepEqual(await failTwenty(spare.client), Array(20).fill(401))
        for (const who of ['bogus', 'revoked', null] as const) {
          const r = await spare.client.call(who, 'GET', '/api/v1/queues')
          assert.equal(r.status, 429, r.text)
          assert.equal(r.body.error.code, 'RATE_LIMITED')
          retryAfter(r)
        }
        const signInWrong = await spare.client.call(null, 'POST', '/api/v1/session', { key: s.keys.bogus })
        assert.equal(signInWrong.status, 429)
        retryAfter(signInWrong)
        // A valid key from the same address is served, and so is signing in with one.
        await spare.client.ok(200, 'admin', 'GET', '/api/v1/queues')
        await spare.client.ok(200, 'alice', 'GET', '/api/v1/jobs')
        const session = await signIn(spare.client, s.keys.bob)
        await spare.client.ok(200, null, 'GET', '/api/v1/jobs', undefined, { cookie: session.cookie })
        assert.deepEqual(await spare.client.ok(200, null, 'GET', '/health'), { status: 'ok' })
        await s.ok(200, 'admin', 'GET', '/api/v1/queues')
      } finally {
        await spare.close()
      }
    })

    it('counts failures per client behind a trusted proxy, and per address when no proxy is trusted', async () => {
      const from = (ip: string) => ({ 'x-forwarded-for': ip })
      const behind = await s.spare({ trustProxy: '127.0.0.1' })
      try {
        assert.deepEqual(await failTwenty(behind.client, from('203.0.113.7')), Array(20).fill(401))
        assert.equal(
          (await behind.client.call('bogus', 'GET', '/api/v1/jobs', undefined, from('203.0.113.7'))).status,
          429,
        )
        // Another client behind the same proxy is not locked out by the first one.
        assert.equal(
          (await behind.client.call('bogus', 'GET', '/api/v1/jobs', undefined, from('198.51.100.2'))).status,
          401,
        )
        await behind.client.ok(200, 'alice', 'GET', '/api/v1/jobs', undefined, from('203.0.113.7'))
      } finally {
        await behind.close()
      }
      const direct = await s.spare()
      try {
        // Without --trust-proxy the header is anyone's to write: it must not buy a fresh counter.
        assert.deepEqual(await failTwenty(direct.client, from('203.0.113.7')), Array(20).fill(401))
        assert.equal(
          (await direct.client.call('bogus', 'GET', '/api/v1/jobs', undefined, from('198.51.100.2'))).status,
          429,
        )
      } finally {
        await direct.close()
      }
    })

    it('counts failures per key prefix too: one key hammered from many addresses', async () => {
      const behind = await s.spare({ trustProxy: 'loopback' })
      try {
        const guess = (i: number) => `${s.keys.alice.slice(0, 10)}${String(i).padStart(26, 'g')}`
        const statuses: number[] = []
        for (let i = 0; i < 21; i++) {
          const headers = { authorization: `Bearer ${guess(i)}`, 'x-forwarded-for': `192.0.2.${i + 1}` }
          statuses.push((await behind.client.call(null, 'GET', '/api/v1/jobs', undefined, headers)).status)
        }
        assert.deepEqual(statuses, [...Array(20).fill(401), 429])
        // The key itself still works, from anywhere.
        await behind.client.ok(200, 'alice', 'GET', '/api/v1/jobs', undefined, {
          'x-forwarded-for': '192.0.2.99',
        })
      } finally {
        await behind.close()
      }
    })

    it('sends the security headers on every response: API, errors, /docs, the OpenAPI document', async () => {
      const cases: [string, Record<string, string>, string][] = [
        ['/api/v1/queues', { authorization: `Bearer ${s.keys.admin}` }, API_CSP],
        ['/api/v1/queues', {}, API_CSP],
        [`/api/v1/jobs/${UNKNOWN_ID}`, { authorization: `Bearer ${s.keys.admin}` }, API_CSP],
        ['/api/v1/nothing-here', {}, API_CSP],
        ['/api/v1/openapi.json', {}, API_CSP],
        ['/docs', {}, DOCS_CSP],
        ['/docs/static/index.html', {}, DOCS_CSP],
        ['/', {}, PAGE_CSP],
        ['/health', {}, PAGE_CSP],
      ]
      for (const [path, headers, csp] of cases) {
        const r = await fetch(`${s.base}${path}`, { headers })
        await r.arrayBuffer()
        const what = `${path} → ${r.status}`
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff', what)
        assert.equal(r.headers.get('x-frame-options'), 'DENY', what)
        assert.equal(r.headers.get('referrer-policy'), 'same-origin', what)
        assert.equal(r.headers.get('content-security-policy'), csp, what)
      }
      assert.match(PAGE_CSP, /frame-ancestors 'none'/)
      assert.doesNotMatch(PAGE_CSP, /unsafe-inline|unsafe-eval/)
    })

    it('says what to send when a JSON body comes without content-type: application/json (415)', async () => {
      const body = JSON.stringify({ queue: 'q', type: 't' })
      for (const type of ['text/plain', 'text/csv', 'application/x-www-form-urlencoded']) {
        const error = await s.fail(415, 'UNSUPPORTED_MEDIA_TYPE', 'alice', 'POST', '/api/v1/jobs', body, {
          'content-type': type,
        })
        assert.match(error.message, new RegExp(`content-type "${type}"`))
        assert.match(error.message, /send JSON with the header content-type: application\/json/)
        assert.deepEqual(error.details, { contentType: type, expected: 'application/json' })
      }
      // No content-type at all (a raw request: fetch would add text/plain).
      const { request } = await import('node:http')
      const url = new URL(`${s.base}/api/v1/jobs`)
      const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          url,
          {
            method: 'POST',
            headers: { authorization: `Bearer ${s.keys.alice}`, 'content-length': body.length },
          },
          (res) => {
            let text = ''
            res.on('data', (d) => (text += d))
            res.on('end', () => resolve({ status: res.statusCode!, text }))
          },
        )
        req.on('error', reject)
        req.end(body)
      })
      assert.equal(reply.status, 415)
      const error = JSON.parse(reply.text).error
      assert.match(
        error.message,
        /no content-type: send JSON with the header content-type: application\/json/,
      )
      assert.equal(error.details.contentType, null)
    })
  })
}
