/** The small helpers every test harness shares: written once, here. */

/** The two drivers every suite runs on. */
export type Driver = 'sqlite' | 'postgres'

export const DRIVERS: readonly Driver[] = ['sqlite', 'postgres']

/**
 * Real time passing, for what must really wait (another process, a socket):
 * never for leases, backoff or schedules, which tests move with a TestClock.
 */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls `check` every 20 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}

/** Polls `fn` until it returns `want` or `timeoutMs` passes; returns the last value either way. */
export async function untilValue<T>(fn: () => Promise<T>, want: T, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const got = await fn()
    if (got === want || Date.now() > deadline) return got
    await sleep(50)
  }
}
