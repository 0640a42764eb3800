import { completerSuite } from './completer.js'
import { processSuite } from './processes.js'
import { runtimeSuite } from './runtime.js'
import { wakeAndCancelSuite } from './wake-and-cancel.js'

runtimeSuite('postgres')
wakeAndCancelSuite('postgres')
completerSuite('postgres')
processSuite('postgres')
