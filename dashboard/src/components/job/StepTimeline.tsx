/** The steps of a job on a time line: when each ran, for how long, and how it ended. */
import type { JobEvent } from '../../api/types.js'
import { duration } from '../../lib/format.js'
import { useNow } from '../../lib/use-api.js'
import { stepRuns } from './history.js'

export function StepTimeline({ events, running }: { events: JobEvent[]; running: boolean }) {
  const now = useNow(running ? 500 : 60_000)
  const runs = stepRuns(events)
  if (runs.length === 0) return <p class="muted">No steps recorded.</p>
  const t0 = Math.min(...runs.map((r) => r.startedAt))
  const t1 = Math.max(...runs.map((r) => r.endedAt ?? now))
  const span = Math.max(1, t1 - t0)
  const multipleAttempts = new Set(runs.map((r) => r.attempt)).size > 1
  return (
    <ol class="timeline">
      {runs.map((r, i) => {
        const end = r.endedAt ?? now
        return (
          <li key={`${r.name}-${i}`} class={`step step-${r.status}`}>
            <div class="step-head">
              <span class="step-name">{r.name}</span>
              <span class="step-status">{r.status}</span>
              <span class="step-duration">{duration(end - r.startedAt)}</span>
              {multipleAttempts ? <span class="muted small">attempt {r.attempt}</span> : null}
            </div>
            <div class="step-track" aria-hidden="true">
              <div
                class="step-bar"
                style={{
                  marginLeft: `${((r.startedAt - t0) / span) * 100}%`,
                  width: `${Math.max(0.5, ((end - r.startedAt) / span) * 100)}%`,
                }}
              />
            </div>
            {r.message ? <div class="step-message muted small">{r.message}</div> : null}
          </li>
        )
      })}
    </ol>
  )
}
