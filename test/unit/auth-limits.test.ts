/**
 * The failed-authentication limiter and the last-used throttle, on a clock
 * the test moves: windows that end one by one, eviction of the oldest
 * counters only, the seconds to wait; `last_used_at` written once a minute.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { storeOf } from '../../src/docket/store-of.js'
import { Docket } from '../../src/index.js'
import { createKey, FailedAuthLimiter, KeyUsage, keyPrefix, limiterSubjects } from '../../src/server/auth.js'

const clock = () => {
  const c = { now: 1_000_000, at: () => c.now }
  return c
}

describe('FailedAuthLimiter', () => {
  it('refuses past the limit with the seconds left in the window, and forgives when the window ends', () => {
    const c = clock()
    const limiter = new FailedAuthLimiter({ limit: 3, windowMs: 60_000, now: c.at })
    for (let i = 0; i < 3; i++) {
      assert.equal(limiter.refusal(['address:a']), null)
      limiter.fail(['address:a'])
    }
    c.now += 15_000
    const refusal = limiter.refusal(['address:a'])
    assert.equal(refusal?.code, 'RATE_LIMITED')
    assert.deepEqual(refusal?.details, { retryAfterSeconds: 45 })
    assert.equal(limiter.retryAfter(['address:b']), 0, 'another address is not limited')
    assert.equal(limiter.retryAfter(['address:b', 'address:a']), 45, 'the longest wait of the subjects')
    c.now += 45_000
    assert.equal(limiter.refusal(['address:a']), null)
    limiter.fail(['address:a'])
    assert.equal(limiter.retryAfter(['address:a']), 0, 'a new window counts from one')
  })

  it('evicts counters one by one: ended windows first, then the oldest, never all at once', () => {
    const c = clock()
    const limiter = new FailedAuthLimiter({ limit: 2, windowMs: 60_000, maxSubjects: 3, now: c.at })
    limiter.fail(['address:old'])
    c.now += 61_000
    limiter.fail(['address:a'])
    assert.equal(limiter.size, 1, 'the ended window is dropped')
    for (const s of ['address:a', 'address:b', 'address:b', 'address:c', 'address:c']) {
      c.now += 1000
      limiter.fail([s])
    }
    assert.equal(limiter.size, 3)
    c.now += 1000
    limiter.fail(['address:d']) // over the bound: the oldest (a) goes; b and c keep their counts
    assert.equal(limiter.size, 3)
    assert.equal(limiter.retryAfter(['address:a']), 0)
    assert.ok(limiter.retryAfter(['address:b']) > 0, 'b survived the eviction')
    assert.ok(limiter.retryAfter(['address:c']) > 0, 'c survived the eviction')
  })

  it('counts a key-shaped attempt against its prefix as well as its address', () => {
    const key = 'dk_AbC-_9_abcdefghijklmnopqrstuvwxyz'
    assert.equal(keyPrefix(key), 'dk_AbC-_9')
    assert.equal(keyPrefix('not-a-key'), null)
    assert.deepEqual(limiterSubjects('10.0.0.1', key), ['address:10.0.0.1', 'prefix:dk_AbC-_9'])
    assert.deepEqual(limiterSubjects('10.0.0.1', 'garbage'), ['address:10.0.0.1'])
    assert.deepEqual(limiterSubjects('10.0.0.1', undefined), ['address:10.0.0.1'])
  })
})

describe('KeyUsage', () => {
  it('writes last_used_at at most once a minute per key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'docket-usage-'))
    const docket = await Docket.open(join(dir, 'docket.db'))
    try {
      const { info } = await createKey(docket, 'u', 'user')
      const other = (await createKey(docket, 'v', 'user')).info
      const store = storeOf(docket)
      const original = store.markApiKeyUsed
      const writes: string[] = []
      store.markApiKeyUsed = (id) => {
        writes.push(id)
        return original.call(store, id)
      }
      const c = clock()
      const usage = new KeyUsage(docket, 60_000, c.at)
      for (let i = 0; i < 50; i++) usage.used(info.id)
      usage.used(other.id)
      c.now += 59_999
      usage.used(info.id)
      await new Promise((r) => setImmediate(r))
      assert.deepEqual(writes, [info.id, other.id])
      c.now += 1
      usage.used(info.id)
      await new Promise((r) => setImmediate(r))
      assert.deepEqual(writes, [info.id, other.id, info.id])
      const listed = (await store.listApiKeys()).find((k) => k.id === info.id)
      assert.ok(listed?.lastUsedAt instanceof Date)
    } finally {
      await docket.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
