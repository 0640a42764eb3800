/** A worker process for bench/worker.ts: argv is the database URL, the queue and the concurrency. */
import { Docket, Worker } from '../src/index.js'

const [url, queue, concurrency] = process.argv.slice(2) as [string, string, string]
const docket = await Docket.open(url)
const worker = new Worker(docket, { queues: [queue], concurrency: Number(concurrency), handlers: () => null })
process.on('message', () => void worker.start())
process.on('SIGTERM', async () => {
  await worker.close()
  await docket.close()
  process.exit(0)
})
process.send?.('ready')
