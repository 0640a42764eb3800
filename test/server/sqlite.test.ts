import { serverSuites } from './topics.js'

serverSuites('sqlite')
