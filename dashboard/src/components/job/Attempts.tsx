/** The error of the last failure with its stack, and every attempt with its outcome. */
import type { JobDetail } from '../../api/types.js'
import { dateTime, duration } from '../../lib/format.js'
import { Ago } from '../Time.js'
import { attempts } from './history.js'

const OUTCOME: Record<string, string> = {
  completed: 'completed',
  scheduled: 'failed, retry scheduled',
  failed: 'failed',
  waiting: 'lease lost or released; back in the queue',
  cancelled: 'cancelled',
}

export function LastError({ job }: { job: JobDetail }) {
  const e = job.lastError
  if (!e) return null
  return (
    <section class="card error-card" aria-labelledby="error-title">
      <h2 id="error-title">
        Error <span class="muted small">attempt {e.attempt}</span>
      </h2>
      <p class="error-message">
        {e.name ? <strong>{e.name}: </strong> : null}
        {e.message}
      </p>
      <p class="muted small">
        <Ago iso={e.at} /> · {e.retryable ? 'retryable' : 'not retryable'} · {job.errorCount} error
        {job.errorCount === 1 ? '' : 's'} in all
      </p>
      {e.stack ? (
        <details>
          <summary>Stack trace</summary>
          <pre class="stack">{e.stack}</pre>
        </details>
      ) : null}
    </section>
  )
}

export function AttemptHistory({ job }: { job: JobDetail }) {
  const list = attempts(job)
  if (list.length === 0) return <p class="muted">Not started yet.</p>
  return (
    <table class="attempts">
      <thead>
        <tr>
          <th>#</th>
          <th>Started</th>
          <th>Took</th>
          <th>Outcome</th>
        </tr>
      </thead>
      <tbody>
        {list.map((a) => (
          <tr key={a.number} class={a.error ? 'attempt-failed' : undefined}>
            <td>{a.number}</td>
            <td>{dateTime(new Date(a.startedAt).toISOString())}</td>
            <td>{a.endedAt === null ? 'running' : duration(a.endedAt - a.startedAt)}</td>
            <td>
              {a.outcome === null ? 'running' : (OUTCOME[a.outcome] ?? a.outcome)}
              {a.error ? <div class="attempt-error">{a.error}</div> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
