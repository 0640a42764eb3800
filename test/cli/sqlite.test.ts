import { cliSuite } from './cli.js'

cliSuite('sqlite')
