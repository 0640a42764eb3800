/** How numbers, times and ids are shown. */

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
  const s = Math.round(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  const m = Math.round(s / 60)
  if (m < 48 * 60) return `${Math.floor(m / 60)} h ${m % 60} min`
  return `${Math.floor(m / 1440)} d ${Math.floor((m % 1440) / 60)} h`
}

/** "12 s ago", "in 3 min", relative to `now` (epoch ms). */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return '—'
  const diff = now - new Date(iso).getTime()
  const abs = Math.abs(diff)
  let text: string
  if (abs < 2000) return 'just now'
  if (abs < 60_000) text = `${Math.round(abs / 1000)} s`
  else if (abs < 3600_000) text = `${Math.round(abs / 60_000)} min`
  else if (abs < 48 * 3600_000) text = `${Math.round(abs / 3600_000)} h`
  else text = `${Math.round(abs / 86_400_000)} d`
  return diff >= 0 ? `${text} ago` : `in ${text}`
}

const absolute = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'short',
})

/**
 * The one absolute format of every time the dashboard shows, with its time
 * zone (the browser's): "2026-12-02 14:05:09 GMT+1". Sortable, and the same
 * whatever the browser's language.
 */
export function dateTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '—'
  const parts = Object.fromEntries(absolute.formatToParts(new Date(iso)).map((p) => [p.type, p.value]))
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`
}

/** The random tail of a UUIDv7 (its head is a timestamp, the same for jobs added together). */
export const shortId = (id: string) => id.slice(-8)

export const count = (n: number) => n.toLocaleString()

export function percent(fraction: number | null | undefined, digits = 1): string {
  if (fraction === null || fraction === undefined) return '—'
  return `${(fraction * 100).toFixed(digits)} %`
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

export const PRIORITIES = [
  ['urgent', 100],
  ['high', 75],
  ['normal', 50],
  ['low', 25],
] as const

export function priorityName(p: number): string {
  const named = PRIORITIES.find(([, v]) => v === p)
  return named ? named[0] : String(p)
}
