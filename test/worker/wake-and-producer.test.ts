/** The wake primitive and the producer's modes, alone: no database, a claim function the test controls. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ClaimedJob } from '../../src/core/types.js'
import { Producer, type ProducerMode } from '../../src/worker/producer.js'
import { Wake } from '../../src/worker/wake.js'
import { until } from './harness.js'

describe('Wake', () => {
  it('a sleeper whose timer fired does not swallow the next wake-up', async () => {
    const wake = new Wake()
    assert.equal(await wake.sleep(5), 'timeout')
    const mark = wake.mark()
    wake.wake() // while "claiming": nobody sleeps
    const t0 = Date.now()
    assert.equal(await wake.sleep(10_000, mark), 'woken')
    assert.ok(Date.now() - t0 < 100)
  })

  it('wakes every sleeper at once, and a mark taken after a wake-up waits for the next', async () => {
    const wake = new Wake()
    const sleepers = [wake.sleep(10_000), wake.sleep(10_000), wake.sleep(10_000)]
    wake.wake()
    assert.deepEqual(await Promise.all(sleepers), ['woken', 'woken', 'woken'])
    assert.equal(await wake.sleep(20, wake.mark()), 'timeout')
  })
})

describe('Producer', () => {
  /** A producer over a claim the test answers by hand, recording its modes. */
  const harness = (
    options: {
      concurrency?: number
      prefetch?: number
      batchSize?: number | null
      pollMs?: number
      nextSlotMs?: (queues: string[]) => Promise<number | null>
    } = {},
  ) => {
    const claims: { queues: string[]; limit: number; answer: (jobs: ClaimedJob[]) => void }[] = []
    const ran: ClaimedJob[] = []
    let running = 0
    const producer = new Producer({
      queues: ['a', 'b'],
      concurrency: options.concurrency ?? 2,
      prefetch: options.prefetch ?? 0,
      batchSize: options.batchSize ?? null,
      pollMs: options.pollMs ?? 60_000,
      claim: (queues, limit) => new Promise((answer) => claims.push({ queues, limit, answer })),
      ...(options.nextSlotMs ? { nextSlotMs: options.nextSlotMs } : {}),
      run: (job) => {
        ran.push(job)
        running++
      },
      running: () => running,
      unwritten: () => 0,
      onError: (e) => assert.fail(String(e)),
    })
    const modeIs = (mode: ProducerMode) => until(() => producer.mode === mode, 2_000, `mode ${mode}`)
    return { producer, claims, ran, modeIs, finish: () => running-- }
  }
  const job = (id: string) => ({ id }) as ClaimedJob

  it('STARTING -> CLAIMING -> SLEEPING -> CLAIMING (woken) -> STOPPED, asking only for free slots', async () => {
    const { producer, claims, ran, modeIs, finish } = harness({ concurrency: 2 })
    assert.equal(producer.mode, 'STARTING')
    producer.start()
    assert.equal(producer.mode, 'CLAIMING')
    assert.deepEqual([claims[0]!.queues, claims[0]!.limit], [['a', 'b'], 2])
    claims[0]!.answer([job('1')]) // fewer than asked: nothing more waiting
    await modeIs('SLEEPING')
    assert.equal(ran.length, 1)
    finish()
    producer.wake() // a slot is free
    await until(() => claims.length === 2, 2_000, 'the second claim')
    assert.equal(producer.mode, 'CLAIMING')
    assert.deepEqual([claims[1]!.queues, claims[1]!.limit], [['b', 'a'], 2]) // queues served in turn
    const stopped = producer.stop()
    claims[1]!.answer([job('2')]) // a claim in flight finishes, and its job still runs
    await stopped
    assert.equal(producer.mode, 'STOPPED')
    assert.deepEqual(
      ran.map((j) => j.id),
      ['1', '2'],
    )
  })

  it('after a short claim, sleeps until a rate limit opens its next slot instead of the whole poll', async () => {
    const asked: string[][] = []
    const { producer, claims, modeIs } = harness({
      pollMs: 60_000,
      nextSlotMs: async (queues) => {
        asked.push(queues)
        return 30
      },
    })
    producer.start()
    claims[0]!.answer([]) // nothing it may start: the queue is at its rate limit
    await modeIs('SLEEPING')
    await until(() => claims.length === 2, 2_000, 'the claim when the slot opens (not after pollMs)')
    assert.deepEqual(asked, [['a', 'b']])
    const stopped = producer.stop()
    claims[1]!.answer([])
    await stopped
  })

  it('without a rate-limited queue (no next slot) sleeps the whole poll', async () => {
    const { producer, claims, modeIs } = harness({ pollMs: 60_000, nextSlotMs: async () => null })
    producer.start()
    claims[0]!.answer([])
    await modeIs('SLEEPING')
    await new Promise((r) => setImmediate(r))
    assert.equal(claims.length, 1)
    await producer.stop()
  })

  it('claims again at once after a full batch while slots are free, and not when none is', async () => {
    const { producer, claims, modeIs } = harness({ concurrency: 3, batchSize: 1 })
    producer.start()
    claims[0]!.answer([job('1')])
    await until(() => claims.length === 2, 2_000, 'a claim straight after the full batch')
    claims[1]!.answer([job('2')])
    await until(() => claims.length === 3, 2_000, 'another')
    claims[2]!.answer([job('3')]) // all three slots busy: sleep
    await modeIs('SLEEPING')
    assert.equal(claims.length, 3)
    await producer.stop()
    assert.equal(producer.mode, 'STOPPED')
  })

  it('with prefetch, claims slots and local queue at once, and refills only once half of it is used', async () => {
    const { producer, claims, ran, modeIs, finish } = harness({ concurrency: 2, prefetch: 4 })
    producer.start()
    assert.equal(claims[0]!.limit, 6) // 2 slots + 4 ahead
    claims[0]!.answer(['1', '2', '3', '4', '5', '6'].map(job))
    await modeIs('SLEEPING')
    finish() // one job done: room for 1, less than half the local queue
    producer.wake()
    await modeIs('SLEEPING')
    await new Promise((r) => setImmediate(r))
    assert.equal(claims.length, 1)
    finish() // room for 2: half of it, refilled in one claim
    producer.wake()
    await until(() => claims.length === 2, 2_000, 'the refill')
    assert.equal(claims[1]!.limit, 2)
    const stopped = producer.stop()
    claims[1]!.answer([])
    await stopped
    assert.equal(ran.length, 6)
  })

  it('refuses a second start, and stops before starting', async () => {
    const { producer, claims } = harness()
    await producer.stop()
    assert.equal(producer.mode, 'STOPPED')
    assert.throws(() => producer.start(), /already started/)
    assert.equal(claims.length, 0)
  })
})
