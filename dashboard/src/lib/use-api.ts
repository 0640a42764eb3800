/** Loading data from the API into a component: keeps the last answer while reloading, drops stale ones. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { feed } from '../api/live.js'
import { serverNow } from './server-clock.js'

export interface Loaded<T> {
  data: T | undefined
  error: Error | undefined
  loading: boolean
  reload: () => void
  /** Changes the loaded data in place (a live update) without a request. */
  update: (change: (data: T) => T) => void
}

export function useApi<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true })
  const generation = useRef(0)
  const loader = useRef(load)
  loader.current = load

  const run = useCallback(() => {
    const mine = ++generation.current
    setState((s) => ({ ...s, loading: true }))
    loader.current().then(
      (data) => {
        if (mine === generation.current) setState({ data, loading: false })
      },
      (error: Error) => {
        if (mine === generation.current) setState((s) => ({ data: s.data, error, loading: false }))
      },
    )
  }, [])

  useEffect(() => {
    setState({ loading: true })
    run()
  }, deps)

  // A load that failed while the server was out of reach is tried again once the feed is live: it is back.
  const failed = state.error !== undefined
  useEffect(() => {
    if (!failed) return
    return feed.onStatus((status) => {
      if (status === 'live') run()
    })
  }, [failed])

  const update = useCallback((change: (data: T) => T) => {
    setState((s) => (s.data === undefined ? s : { ...s, data: change(s.data) }))
  }, [])

  return { data: state.data, error: state.error, loading: state.loading, reload: run, update }
}

/** Calls `fn` every `ms` while the page is visible. */
export function useInterval(fn: () => void, ms: number): void {
  const ref = useRef(fn)
  ref.current = fn
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') ref.current()
    }, ms)
    return () => clearInterval(timer)
  }, [ms])
}

/**
 * The current time by the server's clock (lib/server-clock.ts), refreshed
 * every `ms`: for "12 s ago" labels and running durations that keep counting.
 */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(serverNow())
  useEffect(() => {
    const timer = setInterval(() => setNow(serverNow()), ms)
    return () => clearInterval(timer)
  }, [ms])
  return now
}
