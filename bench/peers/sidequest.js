// What bench/systems/sidequest.ts loads: sidequest as an ES module, and the job class.
export { Sidequest } from 'sidequest'
export { NoopJob } from './sidequest.jobs.js'
export const jobsFilePath = new URL('./sidequest.jobs.js', import.meta.url).pathname
