/**
 * Bad input of every kind: a typed error whose message names the field, and
 * nothing written. Each test snapshots what it could have changed and checks
 * it afterwards.
 */
// Store parts (storage/store.ts): every part: nothing written on bad input.
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { isDocketError, type JobInput } from '../../src/index.js'
import {
  type ConformanceContext,
  expectError,
  guardedQueue,
  newId,
  test,
  total,
  uniqueName,
} from './harness.js'

export function validationSuite(ctx: ConformanceContext): void {
  describe('validation', () => {
    const setup = (prefix: string) => guardedQueue(ctx.docket, prefix)

    test('an unknown queue is NOT_FOUND, naming it', async () => {
      const { queue, rejects } = await setup('v-queue')
      const missing = uniqueName('v-missing')
      await rejects(() => ctx.docket.add(missing, 't'), 'NOT_FOUND', [missing])
      await rejects(() => ctx.docket.add({ queue: missing, type: 't' }), 'NOT_FOUND', [missing])
      await rejects(
        () =>
          ctx.docket.addMany([
            { queue, type: 't' },
            { queue: missing, type: 't' },
          ]),
        'NOT_FOUND',
        [missing],
      )
    })

    test('a priority out of range or of the wrong type is INVALID_ARGUMENT naming priority', async () => {
      const { queue, existing, rejects } = await setup('v-priority')
      for (const priority of [-1, 101, 1.5, Number.NaN, 'extreme', '50', true, null, {}]) {
        await rejects(
          () => ctx.docket.add({ queue, type: 't', priority } as unknown as JobInput),
          'INVALID_ARGUMENT',
          ['priority'],
        )
        await rejects(
          () => ctx.docket.setPriority(existing.id, priority as unknown as number),
          'INVALID_ARGUMENT',
          ['priority'],
        )
      }
      await rejects(
        () =>
          ctx.docket.addMany([
            { queue, type: 'fine' },
            { queue, type: 'fine' },
            { queue, type: 'bad', priority: 1000 },
          ]),
        'INVALID_ARGUMENT',
        ['priority'],
      )
    })

    test('a payload that is not JSON is INVALID_ARGUMENT naming payload', async () => {
      const { queue, rejects } = await setup('v-payload')
      const cyclic: Record<string, unknown> = { a: 1 }
      cyclic.self = cyclic
      const payloads: [string, unknown][] = [
        ['undefined inside', { a: 1, missing: undefined }],
        ['undefined in an array', [1, undefined]],
        ['a Date', { when: new Date() }],
        ['a function', { f: () => 1 }],
        ['a BigInt', { big: 10n }],
        ['a cycle', cyclic],
        ['NaN', { n: Number.NaN }],
        ['Infinity', { n: [Number.POSITIVE_INFINITY] }],
        ['a Map', new Map([['a', 1]])],
        ['a symbol', { s: Symbol('x') }],
        ['a class instance', { url: new URL('https://example.com') }],
      ]
      for (const [what, payload] of payloads) {
        await rejects(() => ctx.docket.add(queue, 't', payload), 'INVALID_ARGUMENT', ['payload']).catch(
          (e) => {
            throw new Error(`${what}: ${(e as Error).message}`)
          },
        )
      }
      // The path inside the payload is named too.
      await rejects(() => ctx.docket.add(queue, 't', { outer: { inner: 10n } }), 'INVALID_ARGUMENT', [
        'payload',
        'outer.inner',
      ])
      await rejects(
        () =>
          ctx.docket.addMany([
            { queue, type: 'fine', payload: { ok: 1 } },
            { queue, type: 'bad', payload: { when: new Date() } },
          ]),
        'INVALID_ARGUMENT',
        ['payload'],
      )
    })

    test('a payload over the size limit is refused naming payload', async () => {
      const { queue } = await setup('v-size')
      let caught: unknown
      try {
        await ctx.docket.add(queue, 't', { text: 'x'.repeat(2 * 1024 * 1024) })
      } catch (error) {
        caught = error
      }
      assert.ok(
        isDocketError(caught) && ['INVALID_ARGUMENT', 'PAYLOAD_TOO_LARGE'].includes(caught.code),
        `expected INVALID_ARGUMENT or PAYLOAD_TOO_LARGE, got ${String(caught)}`,
      )
      assert.match(caught.message, /payload/)
      assert.equal(await total(ctx.docket, queue), 2)
    })

    test('a result, log data or progress that is not valid is refused and the job stays as it was', async () => {
      const { leased, rejects } = await setup('v-result')
      await rejects(() => ctx.docket.workers.complete(leased, { at: new Date() }), 'INVALID_ARGUMENT', [
        'result',
      ])
      await rejects(() => ctx.docket.workers.complete(leased, { n: Number.NaN }), 'INVALID_ARGUMENT', [
        'result',
      ])
      await rejects(() => ctx.docket.workers.log(leased, 'x', { f: () => 1 }), 'INVALID_ARGUMENT', ['data'])
      await rejects(() => ctx.docket.workers.progress(leased, { percent: 150 }), 'INVALID_ARGUMENT', [
        'percent',
      ])
      await rejects(() => ctx.docket.workers.progress(leased, { percent: -1 }), 'INVALID_ARGUMENT', [
        'percent',
      ])
      await rejects(
        () => ctx.docket.workers.progress(leased, { pct: 5 } as unknown as { percent: number }),
        'INVALID_ARGUMENT',
        ['pct'],
      )
      await rejects(() => ctx.docket.workers.step(leased, '', 'started'), 'INVALID_ARGUMENT', ['step'])
      await rejects(() => ctx.docket.workers.heartbeat(leased, 10), 'INVALID_ARGUMENT', ['leaseMs'])
      // Still leased: the worker can finish it.
      await ctx.docket.workers.complete(leased, { fine: true })
    })

    test('a run-at that is not a date is INVALID_ARGUMENT naming runAt', async () => {
      const { queue, rejects } = await setup('v-runat')
      for (const runAt of ['tomorrow', '2026-13-45T99:00:00Z', new Date('not a date'), {}, true, -5, 1.5]) {
        await rejects(
          () => ctx.docket.add({ queue, type: 't', runAt } as unknown as JobInput),
          'INVALID_ARGUMENT',
          ['runAt'],
        )
      }
      await rejects(
        () => ctx.docket.add({ queue, type: 't', runAt: new Date(), delayMs: 5 }),
        'INVALID_ARGUMENT',
        ['delayMs'],
      )
      await rejects(() => ctx.docket.add({ queue, type: 't', delayMs: -1 }), 'INVALID_ARGUMENT', ['delayMs'])
    })

    test('a run-at number past the last date JavaScript can hold is INVALID_ARGUMENT naming runAt', async () => {
      const { queue, rejects } = await setup('v-runat-range')
      const pastTheEndOfTime = 8_640_000_000_000_001
      await rejects(() => ctx.docket.add({ queue, type: 't', runAt: pastTheEndOfTime }), 'INVALID_ARGUMENT', [
        'runAt',
      ])
    })

    test('a limit of 0 (or otherwise out of range) is INVALID_ARGUMENT naming limit', async () => {
      const { queue, rejects } = await setup('v-limit')
      for (const limit of [0, -1, 1.5, 1_000_000]) {
        await rejects(
          () => ctx.docket.workers.claim({ workerId: 'w', queues: [queue], limit }),
          'INVALID_ARGUMENT',
          ['limit'],
        )
        await rejects(() => ctx.docket.listJobs({ queue, limit }), 'INVALID_ARGUMENT', ['limit'])
      }
      await rejects(() => ctx.docket.workers.claim({ workerId: '', queues: [queue] }), 'INVALID_ARGUMENT', [
        'workerId',
      ])
      await rejects(() => ctx.docket.workers.claim({ workerId: 'w', queues: [] }), 'INVALID_ARGUMENT', [
        'queues',
      ])
      await rejects(
        () => ctx.docket.workers.claim({ workerId: 'w', queues: [queue], leaseMs: 1 }),
        'INVALID_ARGUMENT',
        ['leaseMs'],
      )
    })

    test('an id of the wrong form is INVALID_ARGUMENT naming the id', async () => {
      const { queue, leased, rejects } = await setup('v-id')
      for (const bad of ['abc', '123', '', 'g0000000-0000-0000-0000-000000000000', `${newId()}x`]) {
        await rejects(() => ctx.docket.getJob(bad), 'INVALID_ARGUMENT', ['id'])
        await rejects(() => ctx.docket.getJobEvents(bad), 'INVALID_ARGUMENT', ['id'])
        await rejects(() => ctx.docket.cancelJob(bad), 'INVALID_ARGUMENT', ['id'])
        await rejects(() => ctx.docket.retryJob(bad), 'INVALID_ARGUMENT', ['id'])
        await rejects(() => ctx.docket.setPriority(bad, 10), 'INVALID_ARGUMENT', ['id'])
        await rejects(() => ctx.docket.promote(bad), 'INVALID_ARGUMENT', ['id'])
        await rejects(() => ctx.docket.promote([newId(), bad]), 'INVALID_ARGUMENT', ['id'])
        await rejects(() => ctx.docket.removeJob(bad), 'INVALID_ARGUMENT', ['id'])
        await rejects(
          () => ctx.docket.workers.complete({ id: bad, token: leased.lease.token }),
          'INVALID_ARGUMENT',
          ['id'],
        )
        await rejects(() => ctx.docket.add({ id: bad, queue, type: 't' }), 'INVALID_ARGUMENT', ['id'])
        await rejects(() => ctx.docket.add({ queue, type: 't', dependsOn: [bad] }), 'INVALID_ARGUMENT', [
          'dependsOn',
        ])
      }
      await rejects(() => ctx.docket.getJob(42 as unknown as string), 'INVALID_ARGUMENT', ['id'])
    })

    test('bad queue options are INVALID_ARGUMENT naming the field, and create nothing', async () => {
      const { queue, rejects } = await setup('v-queue-options')
      const name = uniqueName('v-q')
      const bad: [object, string][] = [
        [{ name: 'has space' }, 'name'],
        [{ name: '' }, 'name'],
        [{ name: '-leading' }, 'name'],
        [{ name, concurrency: 0 }, 'concurrency'],
        [{ name, mode: 'sometimes' }, 'mode'],
        [{ name, ordering: 'random' }, 'ordering'],
        [{ name, maxAttempts: 0 }, 'maxAttempts'],
        [{ name, backoff: { type: 'linear' } }, 'backoff'],
        [{ name, retentionMs: -5 }, 'retentionMs'],
      ]
      for (const [input, field] of bad) {
        await rejects(() => ctx.docket.createQueue(input as { name: string }), 'INVALID_ARGUMENT', [field])
      }
      await rejects(() => ctx.docket.updateQueue(queue, { concurrency: -1 }), 'INVALID_ARGUMENT', [
        'concurrency',
      ])
      await rejects(() => ctx.docket.getQueue('has space'), 'INVALID_ARGUMENT', [])
      await expectError(() => ctx.docket.getQueue(name), 'NOT_FOUND')
      assert.equal((await ctx.docket.getQueue(queue)).concurrency, null)
    })

    test('other bad job fields are INVALID_ARGUMENT naming the field', async () => {
      const { queue, rejects } = await setup('v-fields')
      const bad: [object, string][] = [
        [{ queue, type: '' }, 'type'],
        [{ queue }, 'type'],
        [{ queue, type: 't', maxAttempts: 0 }, 'maxAttempts'],
        [{ queue, type: 't', timeoutMs: 0 }, 'timeoutMs'],
        [{ queue, type: 't', owner: '' }, 'owner'],
        [{ queue, type: 't', capabilities: 'gpu' }, 'capabilities'],
        [{ queue, type: 't', dedupeKey: '' }, 'dedupeKey'],
        [{ queue: 'bad name', type: 't' }, 'queue'],
      ]
      for (const [input, field] of bad) {
        await rejects(() => ctx.docket.add(input as JobInput), 'INVALID_ARGUMENT', [field])
      }
      await rejects(() => ctx.docket.addMany('nope' as unknown as JobInput[]), 'INVALID_ARGUMENT', [])
      await rejects(() => ctx.docket.cleanup({ batchSize: 0 }), 'INVALID_ARGUMENT', ['batchSize'])
    })
  })
}
