import { cliSuite } from './cli.js'

cliSuite('postgres')
