/**
 * The operator's care of the worker registry: a stopped or lost worker can be
 * removed, one that is up cannot; stopped and lost workers are forgotten by
 * the maintenance leader once silent for the retention period (by the injected clock).
 */
// Store parts (storage/store.ts): WorkerRegistryStore.
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { Maintenance } from '../../src/index.js'
import { type ConformanceContext, expectError, test, workerId } from './harness.js'

export function registrySuite(ctx: ConformanceContext): void {
  const register = (id: string) =>
    ctx.clocked.workers.register({
      id,
      host: 'h',
      pid: 1,
      kind: 'cpu',
      capabilities: [],
      queues: ['q'],
      concurrency: 1,
    })

  describe('worker registry', () => {
    test('a stopped or lost worker can be removed; one that is up answers INVALID_STATE', async () => {
      const { clocked: docket, clock } = ctx
      const up = workerId('up')
      const stopped = workerId('stopped')
      const lost = workerId('lost')
      for (const id of [up, stopped, lost]) await register(id)
      await docket.workers.deregister(stopped)
      clock.advance(60_000)
      assert.ok(await docket.workers.beat(up, 0), 'the one that is up still speaks')
      await docket.workers.markLost(30_000)
      const error = await expectError(() => docket.workers.remove(up), 'INVALID_STATE')
      assert.deepEqual(error.details, {
        workerId: up,
        status: 'up',
        action: 'remove',
        allowedFrom: ['stopped', 'lost'],
      })
      assert.ok(await docket.workers.get(up), 'a refused removal changes nothing')
      await docket.workers.remove(stopped)
      await docket.workers.remove(lost)
      assert.equal(await docket.workers.get(stopped), null)
      assert.equal(await docket.workers.get(lost), null)
      await expectError(() => docket.workers.remove(stopped), 'NOT_FOUND')
      await expectError(() => docket.workers.remove(workerId('never')), 'NOT_FOUND')
    })

    test('maintenance forgets stopped and lost workers once silent for the retention period', async () => {
      const { clocked: docket, clock } = ctx
      const old = workerId('old')
      const recent = workerId('recent')
      const live = workerId('live')
      await register(old)
      await docket.workers.deregister(old)
      clock.advance(50_000)
      await register(recent)
      await docket.workers.deregister(recent)
      await register(live)
      clock.advance(20_000)
      assert.deepEqual((await docket.workers.prune(60_000)).includes(old), true)
      assert.ok(await docket.workers.get(recent), 'stopped 20 s ago: kept')
      assert.ok(await docket.workers.get(live), 'up: kept however quiet')

      clock.advance(50_000)
      const maintenance = new Maintenance(docket, {
        holder: workerId('maintainer'),
        workerRetentionMs: 60_000,
        lostAfterMs: 3_600_000,
      })
      try {
        assert.equal(await maintenance.runOnce(), 'led')
      } finally {
        await maintenance.stop()
      }
      assert.equal(await docket.workers.get(recent), null, 'stopped 70 s ago: forgotten in the pass')
      assert.ok(await docket.workers.get(live))
      await docket.workers.deregister(live)
    })
  })
}
