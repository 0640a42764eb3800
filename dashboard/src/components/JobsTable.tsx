/** Jobs as a table with a checkbox per row for bulk actions. */
import type { Job } from '../api/types.js'
import { duration, priorityName, shortId } from '../lib/format.js'
import { jobHref, queueHref } from '../lib/url.js'
import { useNow } from '../lib/use-api.js'
import { ProgressBar } from './ProgressBar.js'
import { StateBadge } from './StateBadge.js'
import { Ago } from './Time.js'

interface Props {
  jobs: Job[]
  selected: Set<string>
  onSelect: (ids: string[], on: boolean) => void
  showQueue: boolean
  showOwner: boolean
}

export function JobsTable({ jobs, selected, onSelect, showQueue, showOwner }: Props) {
  const all = jobs.length > 0 && jobs.every((j) => selected.has(j.id))
  if (jobs.length === 0) return <p class="empty">No jobs match.</p>
  return (
    <div class="table-wrap">
      <table class="jobs">
        <thead>
          <tr>
            <th class="col-check">
              <input
                type="checkbox"
                aria-label="Select every job on this page"
                checked={all}
                onChange={(e) =>
                  onSelect(
                    jobs.map((j) => j.id),
                    e.currentTarget.checked,
                  )
                }
              />
            </th>
            <th>Job</th>
            <th>Type</th>
            {showQueue ? <th>Queue</th> : null}
            <th>State</th>
            <th class="col-progress">Progress</th>
            <th>Priority</th>
            <th>Attempts</th>
            {showOwner ? <th>Owner</th> : null}
            <th>Created</th>
            <th>Finished</th>
            <th>Duration</th>
            <th>Worker</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <tr key={job.id} data-job={job.id} class={selected.has(job.id) ? 'selected' : undefined}>
              <td class="col-check">
                <input
                  type="checkbox"
                  aria-label={`Select job ${job.id}`}
                  checked={selected.has(job.id)}
                  onChange={(e) => onSelect([job.id], e.currentTarget.checked)}
                />
              </td>
              <td>
                <a class="mono" href={jobHref(job.id)} title={job.id}>
                  {shortId(job.id)}
                </a>
              </td>
              <td>{job.type}</td>
              {showQueue ? (
                <td>
                  <a href={queueHref(job.queue)}>{job.queue}</a>
                </td>
              ) : null}
              <td>
                <StateBadge status={job.status} />
              </td>
              <td class="col-progress">
                {job.status === 'active' || job.progress.percent > 0 ? (
                  <ProgressBar
                    percent={job.progress.percent}
                    step={job.progress.step}
                    message={job.progress.message}
                    status={job.status}
                    compact
                  />
                ) : job.lastError && job.status === 'failed' ? (
                  <span class="error-text" title={job.lastError.message}>
                    {job.lastError.message}
                  </span>
                ) : null}
              </td>
              <td>{priorityName(job.priority)}</td>
              <td>
                {job.attempts}/{job.maxAttempts}
              </td>
              {showOwner ? <td>{job.owner ?? '—'}</td> : null}
              <td class="nowrap">
                <Ago iso={job.createdAt} />
              </td>
              <td class="nowrap">
                <Ago iso={job.finishedAt} />
              </td>
              <td class="nowrap">
                <JobDuration job={job} />
              </td>
              <td class="mono small nowrap">{job.workerId ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** How long it ran, or, while it runs, how long so far by the server's clock. */
function JobDuration({ job }: { job: Job }) {
  const running = job.status === 'active' && job.startedAt !== null
  const now = useNow(running ? 1000 : 60_000)
  if (running)
    return <span class="muted">{duration(Math.max(0, now - new Date(job.startedAt!).getTime()))}</span>
  return <>{duration(job.durationMs)}</>
}
