/** Reads a Server-Sent Events stream for a while and returns the events it carried. */
export interface SseEvent {
  id: number
  kind: string
  jobId: string | null
}

export async function readEvents(
  url: string,
  key: string,
  forMs: number,
  lastEventId?: string,
): Promise<SseEvent[]> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), forMs)
  const headers: Record<string, string> = { authorization: `Bearer ${key}` }
  if (lastEventId) headers['last-event-id'] = lastEventId
  const events: SseEvent[] = []
  try {
    const response = await fetch(url, { headers, signal: controller.signal })
    if (!response.ok || !response.body)
      throw new Error(`SSE ${url}: ${response.status} ${await response.text()}`)
    let buffer = ''
    const decoder = new TextDecoder()
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true })
      let end = buffer.indexOf('\n\n')
      while (end >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const data = block.split('\n').find((l) => l.startsWith('data: '))
        if (data) {
          const e = JSON.parse(data.slice(6))
          events.push({ id: e.id, kind: e.kind, jobId: e.jobId })
        }
        end = buffer.indexOf('\n\n')
      }
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error
  } finally {
    clearTimeout(timer)
  }
  return events
}
