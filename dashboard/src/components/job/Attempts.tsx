/** The error of the last failure with its stack, and every attempt with its worker, outcome and error. */
import type { Attempt, JobDetail } from '../../api/types.js'
import { dateTime, duration } from '../../lib/format.js'
import { Ago } from '../Time.js'

const OUTCOME: Record<Attempt['outcome'], string> = {
  running: 'running',
  completed: 'completed',
  failed: 'failed',
  'lease-expired': 'lease expired (no heartbeat)',
  released: 'released, not counted',
  snoozed: 'snoozed, not counted',
  cancelled: 'cancelled',
  expired: 'expired before it started',
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

/** Every attempt the job made, as the server keeps them: worker, times, outcome and error. */
export function AttemptHistory({ job }: { job: JobDetail }) {
  const list = job.attemptHistory ?? []
  if (list.length === 0) return <p class="muted">Not started yet.</p>
  return (
    <table class="attempts">
      <thead>
        <tr>
          <th>#</th>
          <th>Worker</th>
          <th>Started</th>
          <th>Took</th>
          <th>Outcome</th>
        </tr>
      </thead>
      <tbody>
        {list.map((a, i) => (
          <tr key={i} class={a.error ? 'attempt-failed' : undefined}>
            <td>{a.attempt}</td>
            <td>{a.workerId ?? '—'}</td>
            <td>{a.startedAt ? dateTime(a.startedAt) : '—'}</td>
            <td>{took(a)}</td>
            <td>
              {OUTCOME[a.outcome] ?? a.outcome}
              {a.error ? <AttemptFailure error={a.error} /> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function took(a: Attempt): string {
  if (a.startedAt === null) return '—'
  if (a.finishedAt === null) return 'running'
  return duration(new Date(a.finishedAt).getTime() - new Date(a.startedAt).getTime())
}

function AttemptFailure({ error }: { error: NonNullable<Attempt['error']> }) {
  return (
    <div class="attempt-error">
      {error.name ? <strong>{error.name}: </strong> : null}
      {error.message}
      {error.stack ? (
        <details>
          <summary>Stack trace</summary>
          <pre class="stack">{error.stack}</pre>
        </details>
      ) : null}
      {error.data !== null && error.data !== undefined ? (
        <pre class="stack">{JSON.stringify(error.data, null, 2)}</pre>
      ) : null}
    </div>
  )
}
