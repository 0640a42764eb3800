import { completerSuite } from './completer.js'
import { eventsSuite } from './events.js'
import { prefetchSuite } from './prefetch.js'
import { processSuite } from './processes.js'
import { runtimeSuite } from './runtime.js'
import { sandboxSuite } from './sandbox.js'
import { tracingSuite } from './tracing.js'
import { wakeAndCancelSuite } from './wake-and-cancel.js'

runtimeSuite('sqlite')
wakeAndCancelSuite('sqlite')
prefetchSuite('sqlite')
completerSuite('sqlite')
eventsSuite('sqlite')
tracingSuite('sqlite')
sandboxSuite('sqlite')
processSuite('sqlite')
