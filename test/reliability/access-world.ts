/**
 * The world the access tests look at: a server (trace logging captured, a
 * 64 KiB upload limit) where alice and bob each have a finished job with a
 * result, a running one with progress and logs, a batch and an input file,
 * every one of them carrying the user's canary string. Shared by
 * access.test.ts and feeds.test.ts.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import type { Who } from '../server/harness.js'
import { startServer, type TestServer } from './server.js'
import type { Driver } from './support.js'

export interface AccessWorld {
  s: TestServer
  /** alice's canary and bob's. */
  A: string
  B: string
  /** aliceJob, aliceRunning, aliceBatch, aliceArtifact, and bob's. */
  ids: Record<string, string>
  /** Everything the server logged so far. */
  log(): string
  /** The canaries `who` must not see on `route` (a worker key without a lease token sees none). */
  forbidden(who: Who, route: string): string[]
}

export async function accessWorld(driver: Driver): Promise<AccessWorld> {
  let log = ''
  const capture = new Writable({
    write(chunk, _encoding, done) {
      log += chunk.toString()
      done()
    },
  })
  const A = `CANARY-A-${randomBytes(6).toString('hex')}`
  const B = `CANARY-B-${randomBytes(6).toString('hex')}`
  const ids: Record<string, string> = {}
  const s = await startServer(driver, {
    logger: { level: 'trace', stream: capture },
    maxUploadBytes: 64 * 1024,
  })
  const c = s.client
  await c.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'acl' })
  for (const [who, canary] of [
    ['alice', A],
    ['bob', B],
  ] as const) {
    const done = await c.ok(201, who, 'POST', '/api/v1/jobs', {
      queue: 'acl',
      type: 't',
      payload: { canary },
    })
    const running = await c.ok(201, who, 'POST', '/api/v1/jobs', {
      queue: 'acl',
      type: 't',
      payload: { canary },
    })
    const batch = await c.ok(201, who, 'POST', '/api/v1/batches', {
      name: `${canary}-batch`,
      jobs: [{ queue: 'acl', type: 't', payload: { canary } }],
    })
    const { artifacts } = await s.docket.addWithFiles(
      { queue: 'acl', type: 'file', owner: who, payload: { canary } },
      [{ name: `${canary}.txt`, mediaType: 'text/plain', data: Buffer.from(`${canary}-bytes`) }],
    )
    ids[`${who}Job`] = done.id
    ids[`${who}Running`] = running.id
    ids[`${who}Batch`] = batch.batch.id
    ids[`${who}Artifact`] = artifacts[0]!.id
  }
  // Leases and reports for every user's jobs, with canaries in progress, logs and results.
  const claimed = await s.docket.workers.claim({ workerId: 'w-acl', queues: ['acl'], limit: 100 })
  assert.equal(claimed.length, 8)
  for (const job of claimed) {
    const canary = (job.payload as { canary: string }).canary
    await s.docket.workers.progress(job, { percent: 40, message: `${canary}-progress` })
    await s.docket.workers.log(job, `${canary}-log`, { canary })
    if (job.id === ids.aliceJob || job.id === ids.bobJob) await s.docket.workers.complete(job, { canary })
  }
  return {
    s,
    A,
    B,
    ids,
    log: () => log,
    forbidden(who, _route) {
      if (who === 'admin') return []
      if (who === 'alice') return [B]
      if (who === 'bob') return [A]
      return [A, B]
    },
  }
}
