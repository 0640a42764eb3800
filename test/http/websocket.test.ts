/** The live feed over WebSocket: a job's life in order, resume after a reconnect, and the Origin check. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import WebSocket from 'ws'
import { Docket } from '../../src/index.js'
import { buildApp } from '../../src/server/app.js'
import { createKey } from '../../src/server/auth.js'
import { type Driver, freshTarget } from '../worker/harness.js'

interface Message {
  id: number
  kind: string
  jobId: string | null
}

/** Collects the feed's messages for `ms` milliseconds. */
function listen(
  url: string,
  headers: Record<string, string>,
  ms: number,
  origin?: string,
): Promise<Message[] | { refused: number }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers, origin })
    const messages: Message[] = []
    socket.on('message', (data) => messages.push(JSON.parse(String(data))))
    socket.on('unexpected-response', (_req, res) => resolve({ refused: res.statusCode ?? 0 }))
    socket.on('open', () => setTimeout(() => socket.close(), ms))
    socket.on('close', () => resolve(messages))
    socket.on('error', () => {})
  })
}

for (const driver of ['sqlite', 'postgres'] as Driver[]) {
  describe(`WebSocket feed [${driver}]`, () => {
    it('delivers a job’s life in order, resumes after a reconnect, and refuses foreign origins', async () => {
      const target = await freshTarget(driver)
      const docket = await Docket.open(target.url)
      const app = await buildApp({ docket })
      try {
        await app.listen({ host: '127.0.0.1', port: 0 })
        const host = `127.0.0.1:${(app.server.address() as { port: number }).port}`
        const { key } = await createKey(docket, 'root', 'admin')
        const auth = { authorization: `Bearer ${key}` }
        await docket.createQueue({ name: 'ws' })
        const job = await docket.add('ws', 't', {})
        const [claimed] = await docket.workers.claim({ workerId: 'w', queues: ['ws'] })
        await docket.workers.progress(claimed!, { percent: 40, step: 'halfway' })
        await docket.workers.complete(claimed!, { ok: 1 })

        const all = (await listen(
          `ws://${host}/api/v1/events?jobId=${job.id}&after=0`,
          auth,
          600,
        )) as Message[]
        assert.deepEqual(
          all.map((m) => m.kind),
          ['job.added', 'job.started', 'job.progress', 'job.completed'],
        )
        const rest = (await listen(
          `ws://${host}/api/v1/events?jobId=${job.id}&after=${all[1]!.id}`,
          auth,
          600,
        )) as Message[]
        assert.deepEqual(
          rest.map((m) => m.id),
          all.slice(2).map((m) => m.id),
        )

        assert.deepEqual(await listen(`ws://${host}/api/v1/events`, {}, 300), { refused: 401 })
        assert.deepEqual(await listen(`ws://${host}/api/v1/events`, auth, 300, 'http://evil.example'), {
          refused: 403,
        })
        const sameOrigin = await listen(`ws://${host}/api/v1/events`, auth, 300, `http://${host}`)
        assert.ok(Array.isArray(sameOrigin))
      } finally {
        await app.close()
        await docket.close()
        await target.cleanup()
      }
    })

    it('closes a socket whose key is revoked, saying why (1008 UNAUTHENTICATED)', async () => {
      const target = await freshTarget(driver)
      const docket = await Docket.open(target.url)
      const app = await buildApp({ docket, credentialRecheckMs: 100 })
      try {
        await app.listen({ host: '127.0.0.1', port: 0 })
        const host = `127.0.0.1:${(app.server.address() as { port: number }).port}`
        const { key, info } = await createKey(docket, 'dora', 'user')
        const socket = new WebSocket(`ws://${host}/api/v1/events`, {
          headers: { authorization: `Bearer ${key}` },
        })
        const messages: { error?: { code: string } }[] = []
        socket.on('message', (data) => messages.push(JSON.parse(String(data))))
        const closed = new Promise<{ code: number; reason: string }>((resolve) =>
          socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
        )
        await new Promise((resolve) => socket.on('open', resolve))
        await docket.access.revokeApiKey(info.id)
        const { code, reason } = await closed
        assert.deepEqual([code, reason], [1008, 'UNAUTHENTICATED'])
        assert.equal(messages.at(-1)?.error?.code, 'UNAUTHENTICATED')
      } finally {
        await app.close()
        await docket.close()
        await target.cleanup()
      }
    })
  })
}

describe('WebSocket feed behind a proxy', () => {
  it('compares the Origin (scheme, host, port) with what the browser asked for when the proxy is trusted (--trust-proxy), or with --public-url', async () => {
    const target = await freshTarget('sqlite')
    const docket = await Docket.open(target.url)
    const trusting = await buildApp({ docket, trustProxy: true })
    const direct = await buildApp({ docket })
    try {
      const { key } = await createKey(docket, 'root', 'admin')
      const url = async (app: typeof direct) => {
        await app.listen({ host: '127.0.0.1', port: 0 })
        return `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/events`
      }
      const behindProxy = await url(trusting)
      const noProxy = await url(direct)
      // What a proxy that rewrites Host sends on: the backend's host, and the public one forwarded.
      const proxied = {
        authorization: `Bearer ${key}`,
        host: '10.0.0.5:3000',
        'x-forwarded-host': 'docket.example.com',
        'x-forwarded-proto': 'https',
      }
      const page = 'https://docket.example.com'
      assert.ok(
        Array.isArray(await listen(behindProxy, proxied, 200, page)),
        'the dashboard’s own page is let in',
      )
      assert.deepEqual(await listen(behindProxy, proxied, 200, 'https://evil.example'), { refused: 403 })
      // Without --trust-proxy, X-Forwarded-Host and -Proto are anyone's to send: the Host header and the
      // connection's own scheme are what count, so an https page is another origin than this http server.
      assert.deepEqual(await listen(noProxy, proxied, 200, page), { refused: 403 })
      const asked = { ...proxied, host: 'docket.example.com' }
      assert.deepEqual(await listen(noProxy, asked, 200, page), { refused: 403 })
      assert.ok(Array.isArray(await listen(noProxy, asked, 200, 'http://docket.example.com')))
      // With publicUrl, only that origin: forwarded headers no longer decide.
      const pinned = await buildApp({ docket, trustProxy: true, publicUrl: 'https://docket.example.com' })
      try {
        const pinnedUrl = await url(pinned)
        assert.ok(Array.isArray(await listen(pinnedUrl, { authorization: `Bearer ${key}` }, 200, page)))
        const forged = { ...proxied, 'x-forwarded-host': 'evil.example' }
        assert.deepEqual(await listen(pinnedUrl, forged, 200, 'https://evil.example'), { refused: 403 })
      } finally {
        await pinned.close()
      }
    } finally {
      await trusting.close()
      await direct.close()
      await docket.close()
      await target.cleanup()
    }
  })
})
