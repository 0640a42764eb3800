import { completerSuite } from './completer.js'
import { eventsSuite } from './events.js'
import { prefetchSuite } from './prefetch.js'
import { processSuite } from './processes.js'
import { runtimeSuite } from './runtime.js'
import { sandboxSuite } from './sandbox.js'
import { tracingSuite } from './tracing.js'
import { wakeAndCancelSuite } from './wake-and-cancel.js'

runtimeSuite('postgres')
wakeAndCancelSuite('postgres')
prefetchSuite('postgres')
completerSuite('postgres')
eventsSuite('postgres')
tracingSuite('postgres')
sandboxSuite('postgres')
processSuite('postgres')
