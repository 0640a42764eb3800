// sidequest's manual job resolution file (its `jobsFilePath`): the bench's one job class.
// It lives beside bench/peers/node_modules so that `sidequest` resolves to the peer install,
// as the ES module (one Sidequest singleton, whether loaded here or by bench/peers/sidequest.js).
import { Job } from 'sidequest'

// A job may run in one of sidequest's worker threads, so it reports to the worker process's
// main thread through a BroadcastChannel (bench/systems/sidequest.ts listens on it).
const channel = new BroadcastChannel('docket-bench-sidequest')
channel.unref()

export class NoopJob extends Job {
  async run() {
    channel.postMessage(1)
  }
}
