/**
 * The worker's own times come from the Docket's clock, the one the store
 * measures leases by: a lease the heartbeat renewed runs until the clock's
 * now plus the lease length, not the process's (a TestClock set years away
 * from the wall clock tells them apart).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { TestClock } from '../../src/core/clock.js'
import { Docket, Worker } from '../../src/index.js'

describe("the worker reads the Docket's clock", () => {
  const start = Date.parse('2040-01-01T00:00:00Z')
  const clock = new TestClock(start)
  let dir: string
  let docket: Docket

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'docket-worker-clock-'))
    docket = await Docket.open(join(dir, 'docket.db'), { clock })
    await docket.createQueue({ name: 'clock' })
  })
  after(async () => {
    await docket.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a heartbeat renews the lease until the clock’s now plus leaseMs', async () => {
    await docket.add('clock', 't', {})
    let renewed: Date | null = null
    let worker: Worker | null = null
    const finished = new Promise<void>((resolve) => {
      worker = new Worker(docket, {
        queues: ['clock'],
        leaseMs: 1_000,
        heartbeatMs: 20,
        maintenance: false,
        handlers: async (job) => {
          assert.equal(job.lease.expiresAt.getTime(), start + 1_000, 'claimed on the clock')
          clock.advance(400)
          // Until the next heartbeat has renewed the lease (a runtime signal, bounded).
          for (let i = 0; i < 500 && job.lease.expiresAt.getTime() === start + 1_000; i++)
            await new Promise((r) => setTimeout(r, 10))
          renewed = new Date(job.lease.expiresAt)
          resolve()
        },
      })
      void worker.start()
    })
    await finished
    await worker!.close()
    assert.equal(renewed!.toISOString(), new Date(start + 400 + 1_000).toISOString())
  })
})
