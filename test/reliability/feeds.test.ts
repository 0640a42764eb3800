/**
 * Every feed subscription, SSE and WebSocket, as every kind of caller and
 * with every filter, in the world of access-world.ts: nobody but an admin
 * sees the other user's canary; a worker key gets 403 and no key 401. And the
 * WebSocket checks Origin, for a key and for a session cookie alike.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import WebSocket from 'ws'
import type { Who } from '../server/harness.js'
import { type AccessWorld, accessWorld } from './access-world.js'
import { startServer, type TestServer } from './server.js'
import { DRIVERS, figure, sleep, until } from './support.js'

for (const driver of DRIVERS) {
  describe(`reliability: access to the live feed [${driver}]`, () => {
    let w: AccessWorld
    let s: TestServer
    let A: string
    let B: string
    let ids: Record<string, string>
    let forbidden: AccessWorld['forbidden']
    before(async () => {
      w = await accessWorld(driver)
      ;({ s, A, B, ids, forbidden } = w)
    })
    after(async () => {
      await w?.s.close()
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

    it('never writes an API key to the log', async () => {
      const found = Object.entries(s.keys).filter(([, key]) => w.log().includes(key))
      figure('feeds-log-secrets', { driver, logBytes: w.log().length, keysInLog: found.length })
      assert.deepEqual(
        found.map(([who]) => who),
        [],
      )
    })
  })
}

for (const driver of DRIVERS) {
  describe(`reliability: a feed client that leaves at once [${driver}]`, () => {
    it('leaves no subscription behind (it would poll the event log for ever)', async () => {
      const s = await startServer(driver)
      try {
        // Count the subscriptions the server opens and closes.
        let live = 0
        const subscribe = s.docket.subscribe.bind(s.docket)
        s.docket.subscribe = async (listener, options) => {
          const subscription = await subscribe(listener, options)
          live++
          let closed = false
          return {
            async close() {
              if (!closed) live--
              closed = true
              await subscription.close()
            },
          }
        }
        for (let i = 0; i < 40; i++) {
          const controller = new AbortController()
          const response = fetch(`${s.base}/api/v1/events`, {
            headers: { authorization: `Bearer ${s.keys.admin}` },
            signal: controller.signal,
          })
          // Half leave as soon as the headers arrive, half a moment later.
          if (i % 2 === 1) await sleep(i % 7)
          else await response.catch(() => null)
          controller.abort()
          await response.catch(() => null)
        }
        await until(() => live === 0, 5_000, `${live} subscriptions of clients that left to be closed`)
        figure('feed-abandoned', { driver, clients: 40, subscriptionsLeft: live })
      } finally {
        await s.close()
      }
    })
  })
}
