/** An admin's controls for a queue: pause or resume, automatic or manual mode, the concurrency and rate limits, promote all held. */
import { useEffect, useState } from 'preact/hooks'
import { api } from '../api/client.js'
import type { Queue } from '../api/types.js'
import { AsyncButton } from './AsyncButton.js'
import { useNotify } from './Notices.js'

/** At most N starts per S seconds (a sliding window); an empty N clears the limit. A per-group limit stays per group. */
function RateLimitForm({ queue, onChange }: { queue: Queue; onChange: () => void }) {
  const notify = useNotify()
  const current = queue.rateLimit ?? null
  const [max, setMax] = useState(current ? String(current.max) : '')
  const [seconds, setSeconds] = useState(current ? String(current.intervalMs / 1000) : '1')
  useEffect(() => {
    setMax(current ? String(current.max) : '')
    setSeconds(current ? String(current.intervalMs / 1000) : '1')
  }, [current?.max, current?.intervalMs])
  const save = async (e: Event) => {
    e.preventDefault()
    const rateLimit =
      max.trim() === ''
        ? null
        : {
            max: Number(max),
            intervalMs: Math.round(Number(seconds) * 1000),
            ...(current?.per ? { per: current.per } : {}),
          }
    try {
      await api.updateQueue(queue.name, { rateLimit })
      notify(
        rateLimit === null
          ? `${queue.name}: no rate limit.`
          : `${queue.name}: at most ${rateLimit.max} starts per ${seconds} s.`,
      )
      onChange()
    } catch (error) {
      notify((error as Error).message, 'error')
    }
  }
  return (
    <form class="inline-form" onSubmit={save}>
      <label for="rate-max">Rate limit</label>
      <input
        id="rate-max"
        type="number"
        min={1}
        placeholder="none"
        value={max}
        onInput={(e) => setMax(e.currentTarget.value)}
      />
      <label for="rate-seconds">per seconds</label>
      <input
        id="rate-seconds"
        type="number"
        min={0.001}
        step="any"
        value={seconds}
        onInput={(e) => setSeconds(e.currentTarget.value)}
      />
      <button type="submit" class="btn btn-plain" aria-label="Set rate limit">
        Set
      </button>
    </form>
  )
}

export function QueueActions({ queue, onChange }: { queue: Queue; onChange: () => void }) {
  const notify = useNotify()
  const [limit, setLimit] = useState(queue.concurrency === null ? '' : String(queue.concurrency))
  useEffect(() => setLimit(queue.concurrency === null ? '' : String(queue.concurrency)), [queue.concurrency])
  const paused = queue.status === 'paused'
  const manual = queue.mode === 'manual'
  const held = queue.counts?.held ?? 0

  // Emptying the field removes the limit: asked first, since nothing then holds the queue back.
  const [confirmNoLimit, setConfirmNoLimit] = useState(false)
  const saveLimit = async (e: Event, confirmed = false) => {
    e.preventDefault()
    const value = limit.trim() === '' ? null : Number(limit)
    if (value === null && queue.concurrency !== null && !confirmed) {
      setConfirmNoLimit(true)
      return
    }
    setConfirmNoLimit(false)
    try {
      await api.updateQueue(queue.name, { concurrency: value })
      notify(
        value === null ? `${queue.name}: no concurrency limit.` : `${queue.name}: at most ${value} at once.`,
      )
      onChange()
    } catch (error) {
      notify((error as Error).message, 'error')
    }
  }

  return (
    <div class="queue-actions">
      <AsyncButton
        kind={paused ? 'primary' : 'plain'}
        run={async () => {
          await (paused ? api.resumeQueue(queue.name) : api.pauseQueue(queue.name))
          return `${queue.name} ${paused ? 'resumed' : 'paused'}.`
        }}
        then={onChange}
      >
        {paused ? 'Resume' : 'Pause'}
      </AsyncButton>
      <AsyncButton
        run={async () => {
          await api.updateQueue(queue.name, { mode: manual ? 'automatic' : 'manual' })
          return `${queue.name} is now ${manual ? 'automatic' : 'manual'}.`
        }}
        then={onChange}
      >
        {manual ? 'Switch to automatic' : 'Switch to manual'}
      </AsyncButton>
      {manual && held > 0 ? (
        <AsyncButton
          run={async () => `${(await api.promoteQueue(queue.name)).promoted} held jobs promoted.`}
          then={onChange}
        >
          Promote all held ({held})
        </AsyncButton>
      ) : null}
      <RateLimitForm queue={queue} onChange={onChange} />
      <form class="inline-form" onSubmit={saveLimit}>
        <label for="concurrency">Concurrency limit</label>
        <input
          id="concurrency"
          type="number"
          min={1}
          max={100000}
          placeholder="none"
          value={limit}
          onInput={(e) => setLimit(e.currentTarget.value)}
        />
        {confirmNoLimit ? (
          <>
            <span class="muted small">Remove the limit of {queue.concurrency}?</span>
            <button type="button" class="btn btn-danger" onClick={(e) => void saveLimit(e, true)}>
              Remove the limit
            </button>
            <button
              type="button"
              class="btn btn-plain"
              onClick={() => {
                setConfirmNoLimit(false)
                setLimit(String(queue.concurrency))
              }}
            >
              Keep {queue.concurrency}
            </button>
          </>
        ) : (
          <button type="submit" class="btn btn-plain">
            Save
          </button>
        )}
      </form>
    </div>
  )
}
