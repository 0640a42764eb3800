/** Page URLs: every page and filter lives in the address, so it can be shared. */

export function href(path: string, params: Record<string, string | number | undefined | null> = {}): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `${path}?${s}` : path
}

const at = encodeURIComponent
export const queueHref = (name: string, params: Record<string, string | undefined> = {}) =>
  href(`/queues/${at(name)}`, params)
export const jobHref = (id: string) => `/jobs/${at(id)}`
export const batchHref = (id: string) => `/batches/${at(id)}`
export const boardHref = (queue?: string) => href('/board', { queue })
