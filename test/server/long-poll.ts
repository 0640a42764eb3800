/**
 * A long-poll claim whose client has gone: whatever job the server claims for
 * it is handed straight back (waiting, its attempt not spent), whether the
 * client closed its connection (FIN) or reset it (RST), and whether the job
 * came before or after it left. Over a real socket, since the point is the
 * connection going away.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { describe, it } from 'node:test'
import { type Driver, type Server, sleep, useServer } from './harness.js'

/** Sends a claim with `waitMs` over a raw socket and returns it, request written. */
async function openClaim(s: Server, worker: string, queue: string, waitMs: number): Promise<Socket> {
  const url = new URL(s.base)
  const body = JSON.stringify({ queues: [queue], waitMs, leaseMs: 60_000 })
  const socket = connect(Number(url.port), url.hostname)
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  socket.on('error', () => {})
  socket.write(
    `POST /api/v1/workers/${worker}/claim HTTP/1.1\r\nhost: ${url.host}\r\n` +
      `authorization: Bearer ${s.keys.worker}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
  return socket
}

/** Polls (with real time: the server's own socket events are what is waited for) until `check` holds. */
async function eventually(check: () => Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return
    await sleep(20)
  }
  assert.fail(`not within ${ms} ms: ${what}`)
}

export function longPollSuite(driver: Driver): void {
  describe(`server: a long-poll whose client has gone [${driver}]`, () => {
    const s = useServer(driver)

    for (const [how, leave] of [
      ['closes its connection (FIN)', (socket: Socket) => socket.end()],
      ['resets its connection (RST)', (socket: Socket) => socket.resetAndDestroy()],
    ] as const)
      for (const when of ['after it left', 'as it leaves'] as const)
        it(`hands back the job it claimed when the client ${how}, the job added ${when}`, async () => {
          const queue = `lp-${how.slice(0, 5).replace(/\W/g, '')}-${when.slice(0, 2)}`
          const worker = `w-${queue}`
          await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: queue })
          await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: worker, queues: [queue] })
          const socket = await openClaim(s, worker, queue, 10_000)
          // The server is waiting for a job now (its claim found none).
          await sleep(150)
          let job: { id: string }
          if (when === 'after it left') {
            leave(socket)
            await sleep(100)
            job = await s.docket.add({ queue, type: 't' })
          } else {
            const added = s.docket.add({ queue, type: 't' })
            leave(socket)
            job = await added
          }
          await eventually(async () => {
            const now = await s.docket.getJob(job.id)
            return now.status === 'waiting' && now.attempts === 0 && now.lease === null
          }, `job ${job.id} back in its queue, its attempt not spent`)
          // Another claim gets it at once, as its first attempt.
          const again = await s.ok(200, 'worker', 'POST', `/api/v1/workers/${worker}/claim`, {
            queues: [queue],
          })
          assert.equal(again.jobs[0]?.id, job.id)
          assert.equal(again.jobs[0]?.attempts, 1)
        })
  })
}
