import { serverSuites } from './topics.js'

serverSuites('postgres')
