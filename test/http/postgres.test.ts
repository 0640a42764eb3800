import { apiSuite } from './api.js'

apiSuite('postgres')
