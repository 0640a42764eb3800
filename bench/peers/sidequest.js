// What bench/systems/sidequest.ts loads: sidequest as an ES module, and the job class.
import { configureLogger } from 'sidequest'

export { Sidequest } from 'sidequest'
export { NoopJob } from './sidequest.jobs.js'
export const jobsFilePath = new URL('./sidequest.jobs.js', import.meta.url).pathname

// Errors only, from the start: the engine logs at info while it configures, before its own
// `logger` option applies (as the bench's config asks, errors only).
configureLogger({ level: 'error', json: false })
