/** Every topic of the HTTP end-to-end tests, each on its own fresh database of the driver. */
import { accessSuite } from './access.js'
import { badInputSuite } from './bad-input.js'
import { batchListSuite } from './batch-list.js'
import { boundariesSuite } from './boundaries.js'
import { bulkSuite } from './bulk.js'
import { clientSuite } from './client.js'
import { contractSuite } from './contract.js'
import { feedSuite } from './feed.js'
import { feedEdgesSuite } from './feed-edges.js'
import type { Driver } from './harness.js'
import { healthSuite } from './health.js'
import { jobsSuite } from './jobs.js'
import { keysSuite } from './keys.js'
import { limitsSuite } from './limits.js'
import { longPollSuite } from './long-poll.js'
import { queuesSuite } from './queues.js'
import { rateLimitsSuite } from './rate-limits.js'
import { resultsSuite } from './results.js'
import { schedulesSuite } from './schedules.js'
import { searchSuite } from './search.js'
import { semanticsSuite } from './semantics.js'
import { sessionsSuite } from './sessions.js'
import { tracingSuite } from './tracing.js'
import { uploadsSuite } from './uploads.js'
import { viewerSuite } from './viewer.js'

export function serverSuites(driver: Driver): void {
  queuesSuite(driver)
  jobsSuite(driver)
  badInputSuite(driver)
  accessSuite(driver)
  feedSuite(driver)
  batchListSuite(driver)
  boundariesSuite(driver)
  sessionsSuite(driver)
  keysSuite(driver)
  limitsSuite(driver)
  uploadsSuite(driver)
  searchSuite(driver)
  bulkSuite(driver)
  viewerSuite(driver)
  tracingSuite(driver)
  semanticsSuite(driver)
  resultsSuite(driver)
  clientSuite(driver)
  schedulesSuite(driver)
  rateLimitsSuite(driver)
  healthSuite(driver)
  longPollSuite(driver)
  contractSuite(driver)
  feedEdgesSuite(driver)
}
