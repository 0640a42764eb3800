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
        const [claimed] = await docket.claim({ workerId: 'w', queues: ['ws'] })
        await docket.progress(claimed!, { percent: 40, step: 'halfway' })
        await docket.complete(claimed!, { ok: 1 })

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
  })
}
