import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  assertAcyclic,
  deadDependency,
  dependencyFailure,
  dependencyState,
} from '../../src/core/dependencies.js'
import { isDocketError } from '../../src/core/errors.js'
import { fingerprintError } from '../../src/core/fingerprint.js'
import { resolveDependencies } from '../../src/core/resolve.js'
import { expectDocketError, thrownBy } from './expect-error.js'

const job = (id: string, ...dependsOn: string[]) => ({ id, dependsOn })

/** The cycle named in an assertAcyclic error, as a list of ids (first and last the same). */
function cycleOf(jobs: { id: string; dependsOn: string[] }[]): string[] {
  const error = expectDocketError(() => assertAcyclic(jobs), 'INVALID_ARGUMENT', 'dependency cycle: ')
  const named = error.message.replace(/^dependency cycle: /, '').split(' -> ')
  assert.deepEqual(error.details.issues, [
    { path: 'dependsOn', message: `jobs ${named.join(' -> ')} depend on each other` },
  ])
  return named
}

/** `a` and `b` name the same cycle, perhaps starting at a different job. */
function sameCycle(a: string[], b: string[]): void {
  assert.equal(a[0], a.at(-1), `${a.join(' -> ')} does not close`)
  const ring = a.slice(0, -1)
  const expected = b.slice(0, -1)
  const start = ring.indexOf(expected[0]!)
  assert.ok(start >= 0, `${a.join(' -> ')} is not ${b.join(' -> ')}`)
  assert.deepEqual([...ring.slice(start), ...ring.slice(0, start)], expected)
}

describe('assertAcyclic: accepts', () => {
  it('no jobs, and jobs without dependencies', () => {
    assert.equal(assertAcyclic([]), undefined)
    assert.equal(assertAcyclic([job('a'), job('b')]), undefined)
  })

  it('a chain, in any order', () => {
    assert.doesNotThrow(() => assertAcyclic([job('a'), job('b', 'a'), job('c', 'b')]))
    assert.doesNotThrow(() => assertAcyclic([job('c', 'b'), job('b', 'a'), job('a')]))
  })

  it('a diamond (two paths to one job is not a cycle), in any order', () => {
    const diamond = [job('top'), job('left', 'top'), job('right', 'top'), job('bottom', 'left', 'right')]
    assert.doesNotThrow(() => assertAcyclic(diamond))
    assert.doesNotThrow(() => assertAcyclic([...diamond].reverse()))
  })

  it('a job depending on the same job twice', () => {
    assert.doesNotThrow(() => assertAcyclic([job('a'), job('b', 'a', 'a')]))
  })

  it('dependencies on jobs outside the set (already stored) are ignored', () => {
    assert.doesNotThrow(() => assertAcyclic([job('a', 'stored-1'), job('b', 'a', 'stored-2')]))
    // Even when the outside id's name would close a loop if it were followed.
    assert.doesNotThrow(() => assertAcyclic([job('a', 'x'), job('b', 'a')]))
  })

  it('a wide fan-in', () => {
    const sources = Array.from({ length: 500 }, (_, i) => job(`s${i}`))
    assert.doesNotThrow(() => assertAcyclic([...sources, job('sink', ...sources.map((s) => s.id))]))
  })

  it('a long chain listed from its end, as many jobs as one add call may hold', () => {
    // addMany takes up to 50,000 jobs; a pipeline of 10,000 steps is one of them.
    const chain = Array.from({ length: 10_000 }, (_, i) => job(`j${i}`, ...(i === 0 ? [] : [`j${i - 1}`])))
    chain.reverse()
    const error = thrownBy(() => {
      assertAcyclic(chain)
      throw new Error('accepted')
    })
    assert.ok(error instanceof Error)
    assert.equal(error.message, 'accepted', `assertAcyclic threw ${error.name}: ${error.message}`)
  })
})

describe('assertAcyclic: rejects', () => {
  it('a job that depends on itself', () => {
    assert.deepEqual(cycleOf([job('a', 'a')]), ['a', 'a'])
    assert.deepEqual(cycleOf([job('ok'), job('a', 'ok', 'a')]), ['a', 'a'])
  })

  it('two jobs depending on each other', () => {
    sameCycle(cycleOf([job('a', 'b'), job('b', 'a')]), ['a', 'b', 'a'])
  })

  it('a three-job cycle, naming all three in order', () => {
    // a waits for c, c for b, b for a.
    sameCycle(cycleOf([job('a', 'c'), job('b', 'a'), job('c', 'b')]), ['a', 'c', 'b', 'a'])
  })

  it('names only the jobs on the cycle, not those leading to it', () => {
    const named = cycleOf([job('entry', 'x'), job('x', 'y'), job('y', 'z'), job('z', 'x'), job('free')])
    sameCycle(named, ['x', 'y', 'z', 'x'])
    assert.equal(named.includes('entry'), false)
    assert.equal(named.includes('free'), false)
  })

  it('a cycle hidden behind a diamond', () => {
    sameCycle(
      cycleOf([
        job('top', 'bottom'),
        job('left', 'top'),
        job('right', 'top'),
        job('bottom', 'left', 'right'),
      ]),
      ['top', 'bottom', 'left', 'top'],
    )
  })

  it('a long cycle with INVALID_ARGUMENT, not a stack overflow', () => {
    const n = 10_000
    const ring = Array.from({ length: n }, (_, i) => job(`j${i}`, `j${(i + 1) % n}`))
    const error = thrownBy(() => assertAcyclic(ring))
    assert.ok(
      isDocketError(error, 'INVALID_ARGUMENT'),
      `expected INVALID_ARGUMENT, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    )
  })
})

describe('dependencyFailure', () => {
  it('is a non-retryable error naming the dependency and why', () => {
    const at = new Date('2030-01-01T00:00:00Z')
    assert.deepEqual(dependencyFailure('up-1', 'failed', 2, at), {
      message: 'dependency up-1 failed',
      name: 'DependencyFailed',
      stack: null,
      fingerprint: fingerprintError({ name: 'DependencyFailed', message: 'dependency up-1 failed' })
        .fingerprint,
      attempt: 2,
      at,
      retryable: false,
    })
  })
})

describe('deadDependency', () => {
  it('is a CONFLICT naming the job, the dependency and its status', () => {
    const error = deadDependency('job-1', { id: 'up-1', status: 'cancelled' })
    assert.equal(error.code, 'CONFLICT')
    assert.equal(error.httpStatus, 409)
    assert.match(error.message, /cannot retry job 'job-1'/)
    assert.match(error.message, /dependency 'up-1' is cancelled/)
    assert.deepEqual(error.details, { jobId: 'job-1', dependency: 'up-1' })
  })
})

describe('dependency types', () => {
  it('success waits for completed and dies with failed or cancelled; completion settles on any final state', () => {
    assert.equal(dependencyState('success', 'completed'), 'resolved')
    assert.equal(dependencyState('success', 'failed'), 'dead')
    assert.equal(dependencyState('success', 'cancelled'), 'dead')
    assert.equal(dependencyState('success', 'active'), 'pending')
    assert.equal(dependencyState('completion', 'completed'), 'resolved')
    assert.equal(dependencyState('completion', 'failed'), 'resolved')
    assert.equal(dependencyState('completion', 'cancelled'), 'resolved')
    assert.equal(dependencyState('completion', 'blocked'), 'pending')
  })

  it('bare ids wait for success; an id listed twice waits for success, the stricter', () => {
    assert.deepEqual(resolveDependencies(['a', { id: 'b', on: 'completion' }, { id: 'c', on: 'success' }]), {
      dependsOn: ['a', 'b', 'c'],
      onCompletion: ['b'],
    })
    assert.deepEqual(resolveDependencies([{ id: 'a', on: 'completion' }, 'a']), {
      dependsOn: ['a'],
      onCompletion: [],
    })
  })
})
