/** One job: its state and progress, steps, attempts and error, payload and result, dependencies, files; and actions. */
import { useRoute } from 'preact-iso'
import { ApiError, api } from '../api/client.js'
import { useFeed, useLiveReload } from '../api/live.js'
import type { JobDetail } from '../api/types.js'
import { JsonView } from '../components/JsonView.js'
import { AttemptHistory, LastError } from '../components/job/Attempts.js'
import { JobActions } from '../components/job/JobActions.js'
import { Artifacts, Dependencies } from '../components/job/Related.js'
import { StepTimeline } from '../components/job/StepTimeline.js'
import { Loading, PageHead } from '../components/Layout.js'
import { ProgressBar } from '../components/ProgressBar.js'
import { StateBadge } from '../components/StateBadge.js'
import { Ago } from '../components/Time.js'
import { dateTime, duration, priorityName } from '../lib/format.js'
import { batchHref, queueHref } from '../lib/url.js'
import { useApi } from '../lib/use-api.js'

export function JobPage() {
  const { params } = useRoute()
  const id = params.id ?? ''
  const job = useApi(() => api.job(id), [id])
  useFeed((e) => {
    if (e.jobId !== id || e.kind !== 'job.progress') return
    job.update((j) => ({
      ...j,
      progress: {
        percent: e.percent ?? j.progress.percent,
        step: e.step ?? j.progress.step,
        message: e.message ?? j.progress.message,
      },
    }))
  })
  useLiveReload((e) => e.jobId === id && e.kind !== 'job.progress', job.reload, 300)

  if (!job.data) {
    if (job.error instanceof ApiError && (job.error.status === 404 || job.error.status === 400))
      return (
        <>
          <PageHead title="Job not found" />
          <p>
            No job <code>{id}</code> that you can see. <a href="/jobs">All jobs</a>
          </p>
        </>
      )
    return <Loading error={job.error} what="the job" />
  }
  const j = job.data
  return (
    <>
      <PageHead
        title={
          <>
            {j.type} <StateBadge status={j.status} />
          </>
        }
        actions={<JobActions job={j} onChange={job.reload} />}
      >
        <span class="mono small">{j.id}</span>
      </PageHead>

      <section class="card" aria-label="Progress">
        <ProgressBar
          percent={j.progress.percent}
          step={j.progress.step}
          message={j.progress.message}
          status={j.status}
        />
      </section>

      <div class="grid-2">
        <section class="card" aria-labelledby="facts-title">
          <h2 id="facts-title">Details</h2>
          <Facts job={j} />
        </section>
        <section class="card" aria-labelledby="steps-title">
          <h2 id="steps-title">Steps</h2>
          <StepTimeline events={j.events} running={j.status === 'active'} />
        </section>
      </div>

      <LastError job={j} />

      <section class="card" aria-labelledby="attempts-title">
        <h2 id="attempts-title">Attempts</h2>
        <AttemptHistory job={j} />
      </section>

      <div class="grid-2">
        <section class="card" aria-labelledby="payload-title">
          <h2 id="payload-title">Payload</h2>
          <JsonView value={j.payload} label="Payload" />
        </section>
        <section class="card" aria-labelledby="result-title">
          <h2 id="result-title">Result</h2>
          <JsonView value={j.result} label="Result" />
        </section>
      </div>

      <div class="grid-2">
        <section class="card" aria-labelledby="deps-title">
          <h2 id="deps-title">Dependencies</h2>
          <Dependencies job={j} />
        </section>
        <section class="card" aria-labelledby="files-title">
          <h2 id="files-title">Files</h2>
          <Artifacts job={j} />
        </section>
      </div>

      <details class="card">
        <summary>Event log ({j.events.length})</summary>
        <EventLog job={j} />
      </details>
    </>
  )
}

function Facts({ job: j }: { job: JobDetail }) {
  return (
    <dl class="facts">
      <dt>Queue</dt>
      <dd>
        <a href={queueHref(j.queue)}>{j.queue}</a>
      </dd>
      <dt>Owner</dt>
      <dd>{j.owner ?? '—'}</dd>
      {j.batchId ? (
        <>
          <dt>Batch</dt>
          <dd>
            <a class="mono" href={batchHref(j.batchId)}>
              {j.batchId}
            </a>
          </dd>
        </>
      ) : null}
      <dt>Priority</dt>
      <dd>
        {priorityName(j.priority)} ({j.priority})
      </dd>
      <dt>Attempts</dt>
      <dd>
        {j.attempts} of {j.maxAttempts}
      </dd>
      <dt>Created</dt>
      <dd title={dateTime(j.createdAt)}>
        <Ago iso={j.createdAt} />
      </dd>
      <dt>Run at</dt>
      <dd>
        <Ago iso={j.runAt} />
      </dd>
      {j.expiresAt ? (
        <>
          <dt>Expires</dt>
          <dd title={dateTime(j.expiresAt)}>
            <Ago iso={j.expiresAt} /> <span class="muted small">unless started by then</span>
          </dd>
        </>
      ) : null}
      <dt>Started</dt>
      <dd>
        <Ago iso={j.startedAt} />
      </dd>
      <dt>Finished</dt>
      <dd>
        <Ago iso={j.finishedAt} />
      </dd>
      <dt>Duration</dt>
      <dd>
        {duration(j.durationMs)}
        {j.estimatedDurationMs !== null ? (
          <span class="muted"> (estimated {duration(j.estimatedDurationMs)})</span>
        ) : null}
      </dd>
      {j.lease ? (
        <>
          <dt>Worker</dt>
          <dd>
            <span class="mono">{j.lease.workerId}</span>{' '}
            <span class="muted small">
              lease expires <Ago iso={j.lease.expiresAt} />
            </span>
          </dd>
        </>
      ) : null}
      {j.capabilities.length > 0 ? (
        <>
          <dt>Needs</dt>
          <dd>{j.capabilities.join(', ')}</dd>
        </>
      ) : null}
      {j.dedupeKey ? (
        <>
          <dt>Dedupe key</dt>
          <dd class="mono">{j.dedupeKey}</dd>
        </>
      ) : null}
    </dl>
  )
}

function EventLog({ job }: { job: JobDetail }) {
  return (
    <table class="events">
      <thead>
        <tr>
          <th>Time</th>
          <th>Event</th>
          <th>Detail</th>
        </tr>
      </thead>
      <tbody>
        {job.events.map((e) => (
          <tr key={e.id}>
            <td class="nowrap">{dateTime(e.at)}</td>
            <td>{e.kind === 'state' ? `→ ${e.status}` : e.kind}</td>
            <td>
              {[e.step, e.percent === null ? null : `${Math.round(e.percent)}%`, e.message]
                .filter((x) => x !== null && x !== undefined)
                .join(' · ')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
