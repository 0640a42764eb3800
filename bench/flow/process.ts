/**
 * A worker process for bench:flow: argv[2] is a JSON ProcessConfig. Says
 * 'ready' over IPC once open, starts its Worker on 'go' (or at once with
 * `start`), stops gracefully on 'stop'. Each handler returns the time it
 * started (Date.now()) as the job's result.
 */
import { Docket, Worker } from '../../src/index.js'

export interface ProcessConfig {
  url: string
  id: string
  queue: string
  concurrency: number
  /** Start the worker without waiting for 'go'. */
  start?: boolean
  maintenanceIntervalMs?: number
  pollMs?: number
}

const config = JSON.parse(process.argv[2]!) as ProcessConfig
const docket = await Docket.open(config.url)
const worker = new Worker(docket, {
  id: config.id,
  queues: [config.queue],
  concurrency: config.concurrency,
  maintenanceIntervalMs: config.maintenanceIntervalMs ?? 1_000,
  pollMs: config.pollMs ?? 1_000,
  onError: (error) => console.error(`${config.id}: ${(error as Error).message}`),
  handlers: () => ({ startedAt: Date.now() }),
})
process.on('message', async (m) => {
  if (m === 'go') await worker.start()
  if (m === 'stop') {
    await worker.close()
    await docket.close()
    process.exit(0)
  }
})
if (config.start) await worker.start()
process.send?.('ready')
