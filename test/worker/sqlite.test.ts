import { processSuite } from './processes.js'
import { runtimeSuite } from './runtime.js'

runtimeSuite('sqlite')
processSuite('sqlite')
