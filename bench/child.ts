/**
 * One worker process of `npm run bench` (forked by bench/lib/children.ts).
 *
 *   worker    runs the system's worker with a no-op handler once told 'go',
 *             reports how many handlers ran, stops on 'stop', reports peak RSS
 *   pickup    hosts an idle worker and a producer; adds one job at a time and
 *             times add() -> first line of the handler (the same process, so
 *             one monotonic clock)
 *   baseline  loads nothing: the RSS of Node alone, for reference
 *
 * Run as plain JavaScript, bundled by lib/build-child.ts, with Docket from dist/.
 */
import type { ChildArgs, ChildMessage, PickupPlan } from './lib/children.js'
import { createSystem } from './systems/index.js'
import type { Producer } from './systems/types.js'

const args = JSON.parse(process.argv[2]!) as ChildArgs
const send = (m: ChildMessage) => process.send?.(m)
const peakRssKb = () => process.resourceUsage().maxRSS
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Sends the last message, then exits: some libraries keep timers or sockets that would hold the process open. */
const finish = (m: ChildMessage, code = 0) => {
  if (!process.send) process.exit(code)
  process.send(m, () => process.exit(code))
}

async function worker(): Promise<void> {
  const system = await createSystem(args.system)
  let processed = 0
  const consumer = await system.consumer(args.settings, () => {
    processed++
  })
  let reported = -1
  const report = () => {
    if (processed !== reported) send({ type: 'processed', n: processed })
    reported = processed
  }
  let ticker: NodeJS.Timeout | undefined
  const onMessage = async (m: unknown) => {
    if (m === 'go') {
      ticker = setInterval(report, 25)
      await consumer.start()
    } else if (m === 'stop') {
      clearInterval(ticker)
      report()
      await consumer.stop()
      finish({ type: 'stopped', maxRssKb: peakRssKb() })
    }
  }
  process.on('message', (m) => void onMessage(m).catch(fail))
  send({ type: 'ready' })
}

async function pickup(plan: PickupPlan): Promise<void> {
  const system = await createSystem(args.system)
  let started: ((at: bigint) => void) | null = null
  const consumer = await system.consumer(args.settings, () => {
    const at = process.hrtime.bigint()
    started?.(at)
    started = null
  })
  const producer = await system.producer()
  await consumer.start()
  await sleep(500)
  const reps: number[][] = []
  for (let rep = 0; rep < plan.reps; rep++) reps.push(await pickupRep(plan, producer, (fn) => (started = fn)))
  const maxRssKb = peakRssKb()
  await consumer.stop()
  await producer.close()
  finish({ type: 'pickup', reps, maxRssKb })
}

async function pickupRep(
  plan: PickupPlan,
  producer: Producer,
  onStart: (fn: (at: bigint) => void) => void,
): Promise<number[]> {
  const samples: number[] = []
  const deadline = performance.now() + plan.capMs
  for (let i = 0; i < plan.warmup + plan.samples && performance.now() < deadline; i++) {
    await sleep(plan.gapMs + Math.random() * plan.jitterMs)
    let timer: NodeJS.Timeout | undefined
    const begun = new Promise<bigint | null>((resolve) => {
      onStart(resolve)
      timer = setTimeout(() => resolve(null), 10_000)
    })
    const t0 = process.hrtime.bigint()
    await producer.addOne()
    const t1 = await begun
    clearTimeout(timer)
    if (t1 === null) throw new Error('a job was not picked up within 10 s')
    if (i >= plan.warmup) samples.push(Number(t1 - t0) / 1e6)
  }
  return samples
}

function fail(error: unknown): void {
  finish(
    { type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) },
    1,
  )
}

try {
  if (args.mode === 'worker') await worker()
  else if (args.mode === 'pickup') await pickup(args.pickup!)
  else finish({ type: 'baseline', maxRssKb: peakRssKb() })
} catch (error) {
  fail(error)
}
