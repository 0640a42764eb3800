/**
 * Part 3: pickup latency, enqueue -> handler start, for single jobs arriving
 * one at a time at an idle worker. One process per system hosts both the
 * worker and the producer (so one clock times both ends); each repetition is
 * up to `pickupSamples` jobs, each after a pause that lets the worker go idle.
 *
 * The pause is random: 20-70 ms, and for the systems that only poll 20-570 ms
 * (their poll interval is 500 ms), so that jobs land at random points of the
 * poll cycle. A fixed pause would land every job just after a poll, and
 * measure a whole interval instead of half of one on average.
 */
import { Child, type PickupPlan } from '../lib/children.js'
import { log, settings } from '../lib/context.js'
import type { Results } from '../lib/results.js'
import { median, num, percentile } from '../lib/stats.js'
import { createSystem, POLL_ONLY, SYSTEM_LABELS } from '../systems/index.js'
import type { SystemConfig } from '../systems/types.js'

export const PICKUP_PLAN: PickupPlan = {
  reps: settings.reps,
  samples: settings.pickupSamples,
  warmup: 5,
  gapMs: 20,
  jitterMs: 50,
  capMs: 12_000,
}

export async function runPickup(configs: SystemConfig[], results: Results): Promise<void> {
  for (const config of configs) {
    const label = SYSTEM_LABELS[config.id]
    let child: Child | null = null
    try {
      const workerSettings = { concurrency: settings.concurrency, pollMs: settings.pollMs }
      await (await createSystem(config)).reset(workerSettings)
      child = new Child({
        mode: 'pickup',
        system: config,
        settings: workerSettings,
        pickup: {
          ...PICKUP_PLAN,
          jitterMs: PICKUP_PLAN.jitterMs + (POLL_ONLY.has(config.kind) ? settings.pollMs : 0),
        },
      })
      const { reps } = await child.next('pickup', PICKUP_PLAN.reps * PICKUP_PLAN.capMs + 90_000)
      const pooled = reps.flat()
      results.pickup[config.id] = {
        medians: reps.map((r) => median(r)),
        p99s: reps.map((r) => percentile(r, 0.99)),
        samples: pooled.length,
        pooledMedian: median(pooled),
        pooledP99: percentile(pooled, 0.99),
      }
      log(
        `  ${label}: median ${num(median(pooled))} ms, p99 ${num(percentile(pooled, 0.99))} ms ` +
          `(${pooled.length} jobs in ${reps.length} repetitions)`,
      )
    } catch (error) {
      const message = `${label} pickup: ${(error as Error).message.split('\n')[0]}`
      results.notes.push(`Failed run: ${message}`)
      log(`  FAILED ${message}`)
    } finally {
      if (child && child.process.exitCode === null) {
        await new Promise((r) => {
          child?.process.once('exit', r)
          setTimeout(() => child?.process.kill('SIGKILL'), 20_000).unref()
        })
      }
    }
  }
}
