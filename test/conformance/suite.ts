/**
 * The driver conformance suite: one set of tests over the public Docket API,
 * run unchanged against every driver. Each topic lives in its own file; this
 * file opens the target, hands the topics a context, and says how many tests
 * ran. Each topic file's header names the Store parts (storage/store.ts) it exercises.
 */
import { after, before, describe } from 'node:test'
import { Docket, TestClock } from '../../src/index.js'
import { attemptsSuite } from './attempts.js'
import { boundariesSuite } from './boundaries.js'
import { bulkSuite } from './bulk.js'
import { claimSuite } from './claim.js'
import { concurrencySuite } from './concurrency.js'
import { controlSuite } from './control.js'
import { dedupeSuite } from './dedupe.js'
import { dedupeModesSuite } from './dedupe-modes.js'
import { dependenciesSuite } from './dependencies.js'
import { dependencyTypesSuite } from './dependency-types.js'
import { expirySuite } from './expiry.js'
import { fencingSuite } from './fencing.js'
import { groupsSuite } from './groups.js'
import { type ConformanceContext, type Driver, testsRan } from './harness.js'
import { healthSuite } from './health.js'
import { jobsSuite } from './jobs.js'
import { leadershipSuite } from './leadership.js'
import { leasesSuite } from './leases.js'
import { optionsSuite } from './options.js'
import { persistenceSuite } from './persistence.js'
import { queuesSuite } from './queues.js'
import { rateLimitsSuite } from './rate-limits.js'
import { readSuite } from './read.js'
import { registrySuite } from './registry.js'
import { retentionSuite } from './retention.js'
import { retryAfterSuite } from './retry-after.js'
import { schedulesSuite } from './schedules.js'
import { searchSuite } from './search.js'
import { storeSuite } from './store.js'
import { validationSuite } from './validation.js'
import { waitsSuite } from './waits.js'

export function conformanceSuite(
  driver: Driver,
  target: () => Promise<{ url: string; cleanup(): Promise<void> }>,
): void {
  describe(`conformance [${driver}]`, () => {
    let url: string | undefined
    let cleanup: (() => Promise<void>) | undefined
    let shared: Docket | undefined
    let clocked: Docket | undefined
    const clock = new TestClock()
    const opened: Docket[] = []
    let ranBefore = 0

    const ctx: ConformanceContext = {
      driver,
      get url() {
        if (url === undefined) throw new Error('the conformance target is not open yet')
        return url
      },
      get docket() {
        if (!shared) throw new Error('the conformance target is not open yet')
        return shared
      },
      get clocked() {
        if (!clocked) throw new Error('the conformance target is not open yet')
        return clocked
      },
      clock,
      async open(options) {
        const docket = await Docket.open(ctx.url, options)
        opened.push(docket)
        return docket
      },
    }

    before(async () => {
      ranBefore = testsRan()
      const t = await target()
      url = t.url
      cleanup = () => t.cleanup()
      shared = await Docket.open(url)
      clock.set(Date.now())
      clocked = await ctx.open({ clock })
      if (shared.driver !== driver)
        throw new Error(`the target URL opened a ${shared.driver} Docket, not ${driver}`)
    })

    after(async () => {
      try {
        await Promise.all(opened.map((d) => d.close()))
        await shared?.close()
        await cleanup?.()
      } finally {
        console.log(`conformance[${driver}]: ${testsRan() - ranBefore} tests ran`)
      }
    })

    queuesSuite(ctx)
    jobsSuite(ctx)
    dedupeSuite(ctx)
    dedupeModesSuite(ctx)
    readSuite(ctx)
    healthSuite(ctx)
    searchSuite(ctx)
    claimSuite(ctx)
    leasesSuite(ctx)
    attemptsSuite(ctx)
    retryAfterSuite(ctx)
    expirySuite(ctx)
    fencingSuite(ctx)
    dependenciesSuite(ctx)
    dependencyTypesSuite(ctx)
    controlSuite(ctx)
    bulkSuite(ctx)
    validationSuite(ctx)
    waitsSuite(ctx)
    optionsSuite(ctx)
    concurrencySuite(ctx)
    rateLimitsSuite(ctx)
    groupsSuite(ctx)
    persistenceSuite(ctx)
    retentionSuite(ctx)
    registrySuite(ctx)
    leadershipSuite(ctx)
    schedulesSuite(ctx)
    boundariesSuite(ctx)
    storeSuite(ctx)
  })
}
