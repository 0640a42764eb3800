/**
 * What every conformance topic file shares: the context it runs in, the
 * counting `test` wrapper around node:test's `it`, and small helpers. Topic
 * files reach the database only through the public `Docket` API.
 */
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { it } from 'node:test'
import {
  type ClaimedJob,
  type Docket,
  type DocketError,
  type DocketOptions,
  type ErrorCode,
  isDocketError,
  type JobInput,
  type QueueCreateInput,
  type TestClock,
} from '../../src/index.js'

import { type Driver, sleep, until } from '../support/helpers.js'

export { type Driver, sleep, until }

export interface ConformanceContext {
  readonly driver: Driver
  /** The Docket shared by the run, opened on the target URL. */
  readonly docket: Docket
  /** The target database URL. */
  readonly url: string
  /**
   * A Docket on the same URL whose time is `clock`: tests of leases, delays,
   * backoff and retention use it and move the clock instead of sleeping. The
   * clock stands still between moves and only moves forward, so another
   * test's rows (on the real clock) are never in its future.
   */
  readonly clocked: Docket
  readonly clock: TestClock
  /** Opens another Docket (its own connection or pool) on the same URL; closed at the end of the run if still open. */
  open(options?: DocketOptions): Promise<Docket>
}

let ran = 0

/** How many conformance tests have started in this process. */
export function testsRan(): number {
  return ran
}

/** `it`, counted: every conformance test goes through here so the run can say how many ran. */
export function test(name: string, fn: () => Promise<void>): void {
  it(name, async () => {
    ran++
    await fn()
  })
}

/** A queue name no other test uses, so every test can share one database. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`
}

/** Creates a queue with a unique name and returns the name. */
export async function makeQueue(
  docket: Docket,
  prefix: string,
  options: Omit<QueueCreateInput, 'name'> = {},
): Promise<string> {
  const name = uniqueName(prefix)
  await docket.createQueue({ name, ...options })
  return name
}

export const newId = (): string => randomUUID()

export const workerId = (label = 'w'): string => `${label}-${randomBytes(3).toString('hex')}`

/** Claims up to `limit` jobs of the queues for a fresh worker id. */
export function claim(
  docket: Docket,
  queues: string | string[],
  options: { limit?: number; leaseMs?: number; capabilities?: string[]; worker?: string } = {},
): Promise<ClaimedJob[]> {
  return docket.workers.claim({
    workerId: options.worker ?? workerId(),
    queues: [queues].flat(),
    limit: options.limit ?? 1,
    leaseMs: options.leaseMs ?? 30_000,
    ...(options.capabilities ? { capabilities: options.capabilities } : {}),
  })
}

/** Claims exactly one job of the queue and fails the test if there is none. */
export async function claimOne(docket: Docket, queue: string, leaseMs = 30_000): Promise<ClaimedJob> {
  const [job] = await claim(docket, queue, { leaseMs })
  assert.ok(job, `expected a job to claim in ${queue}`)
  return job
}

/** Adds a job and takes it through claim and complete. */
export async function addCompleted(docket: Docket, input: JobInput, result: unknown = null) {
  const job = await docket.add(input)
  const claimed = await claimOne(docket, input.queue)
  assert.equal(claimed.id, job.id, 'the queue held another ready job')
  await docket.workers.complete(claimed, result)
  return job
}

/**
 * Awaits `action`, expects a DocketError with `code`, and, when `fields`
 * are given, a message naming each of them. Returns the error.
 */
export async function expectError(
  action: () => Promise<unknown>,
  code: ErrorCode,
  fields: string[] = [],
): Promise<DocketError> {
  let caught: unknown
  try {
    await action()
  } catch (error) {
    caught = error
  }
  assert.ok(caught !== undefined, `expected a ${code} error, but the call succeeded`)
  assert.ok(
    isDocketError(caught),
    `expected a DocketError ${code}, got ${caught instanceof Error ? caught.stack : String(caught)}`,
  )
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`)
  for (const field of fields) {
    assert.ok(caught.message.includes(field), `message should name '${field}': ${caught.message}`)
  }
  return caught
}

/** The status counts of one queue. */
export async function counts(docket: Docket, queue: string) {
  const all = await docket.countJobs(queue)
  const c = all[queue]
  assert.ok(c, `countJobs gave no counts for ${queue}`)
  return c
}

/** Total jobs of a queue, over every status. */
export async function total(docket: Docket, queue: string): Promise<number> {
  return Object.values(await counts(docket, queue)).reduce((a, b) => a + b, 0)
}

/** Ids of every job of a queue, paging through listJobs. */
export async function allJobIds(docket: Docket, queue: string): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | undefined
  do {
    const page = await docket.listJobs({ queue, limit: 1000, cursor })
    ids.push(...page.jobs.map((j) => j.id))
    cursor = page.nextCursor ?? undefined
  } while (cursor)
  return ids
}

export async function status(docket: Docket, id: string) {
  return (await docket.getJob(id)).status
}

/** Everything a refused call could have touched: the queue's jobs (with their events) and the queues. */
async function snapshot(docket: Docket, queue: string) {
  const jobs = (await docket.listJobs({ queue, limit: 1000 })).jobs
  return {
    jobs: await Promise.all(jobs.map((j) => docket.getJob(j.id))),
    queues: await docket.listQueues(),
    counts: await docket.countJobs(queue),
  }
}

/**
 * A queue holding one waiting job (`existing`) and one active job (`leased`),
 * and `rejects`, which expects a call to fail with `code` naming `fields`,
 * and checks that nothing changed.
 */
export async function guardedQueue(docket: Docket, prefix: string) {
  const queue = await makeQueue(docket, prefix)
  const existing = await docket.add(queue, 'existing', { keep: true }, { priority: 'low' })
  await docket.add(queue, 'leased', null, { priority: 'urgent' })
  const leased = await claimOne(docket, queue)
  const before = await snapshot(docket, queue)
  const rejects = async (action: () => Promise<unknown>, code: ErrorCode, fields: string[]) => {
    await expectError(action, code, fields)
    assert.deepEqual(await snapshot(docket, queue), before, `a refused call changed something (${fields})`)
  }
  return { queue, existing, leased, rejects }
}
