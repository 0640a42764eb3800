import { apiSuite } from './api.js'

apiSuite('sqlite')
