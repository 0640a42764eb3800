/**
 * The server's clock as this tab knows it: every API answer carries the
 * server's time (x-server-time, epoch ms); the difference to the browser's
 * clock, measured at the middle of the request, is kept, so elapsed times
 * ("running for 12 s", "heartbeat 3 s ago") are server time now less a
 * server timestamp, right even when the browser's clock is off by hours.
 */
let offsetMs = 0

/** Records the server's time from an answer to a request sent at `sentAt` (browser ms). */
export function observeServerTime(header: string | null, sentAt: number): void {
  const server = Number(header)
  if (!header || !Number.isFinite(server)) return
  const received = Date.now()
  offsetMs = server - (sentAt + received) / 2
}

/** Now by the server's clock (epoch ms): the browser's now plus the offset last measured. */
export const serverNow = (): number => Date.now() + offsetMs
