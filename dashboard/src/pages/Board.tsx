/** A queue's jobs as cards in columns by state; held jobs can be promoted from here. */
import { useEffect } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { api } from '../api/client.js'
import { isStateEvent, useFeed, useLiveReload } from '../api/live.js'
import type { Job, JobStatus } from '../api/types.js'
import { AsyncButton } from '../components/AsyncButton.js'
import { Loading, PageHead } from '../components/Layout.js'
import { ProgressBar } from '../components/ProgressBar.js'
import { Ago } from '../components/Time.js'
import { count, priorityName, shortId } from '../lib/format.js'
import { BOARD_COLUMNS, can } from '../lib/states.js'
import { boardHref, jobHref, queueHref } from '../lib/url.js'
import { useApi } from '../lib/use-api.js'

const PER_COLUMN = 20
const SORT: Record<string, { sort: 'createdAt' | 'priority'; order: 'asc' | 'desc' }> = {
  held: { sort: 'priority', order: 'desc' },
  waiting: { sort: 'priority', order: 'desc' },
  active: { sort: 'createdAt', order: 'asc' },
  completed: { sort: 'createdAt', order: 'desc' },
  failed: { sort: 'createdAt', order: 'desc' },
}

export function BoardPage() {
  const { query, route } = useLocation()
  const queues = useApi(() => api.queues(), [])
  const name = query.queue || undefined
  useEffect(() => {
    const first = queues.data?.[0]
    if (!name && first) route(boardHref(first.name), true)
  }, [name, queues.data])

  const columns = useApi(
    async () =>
      name
        ? Promise.all(
            BOARD_COLUMNS.map((status) =>
              api.jobs({ queue: name, status, limit: PER_COLUMN, ...SORT[status] }),
            ),
          )
        : [],
    [name],
  )
  useLiveReload(
    (e) => e.queue === name && isStateEvent(e),
    () => {
      columns.reload()
      queues.reload()
    },
    1000,
  )
  useFeed((e) => {
    if (e.kind !== 'job.progress' || e.queue !== name) return
    columns.update((cols) =>
      cols.map((c) => ({
        ...c,
        jobs: c.jobs.map((j) =>
          j.id === e.jobId
            ? {
                ...j,
                progress: {
                  percent: e.percent ?? j.progress.percent,
                  step: e.step ?? j.progress.step,
                  message: e.message,
                },
              }
            : j,
        ),
      })),
    )
  })

  const queue = queues.data?.find((q) => q.name === name)
  return (
    <>
      <PageHead title="Board">
        {queues.data && queues.data.length > 0 ? (
          <label class="inline-form">
            Queue{' '}
            <select value={name ?? ''} onChange={(e) => route(boardHref(e.currentTarget.value))}>
              {queues.data.map((q) => (
                <option key={q.name} value={q.name}>
                  {q.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        {queue ? (
          <a class="small" href={queueHref(queue.name)}>
            {' '}
            open the queue
          </a>
        ) : null}
      </PageHead>
      {queues.data?.length === 0 ? <p class="empty">No queues yet.</p> : null}
      {columns.data && name ? (
        <div class="board">
          {BOARD_COLUMNS.map((status, i) => (
            <Column
              key={status}
              status={status}
              jobs={columns.data?.[i]?.jobs ?? []}
              total={queue?.counts?.[status]}
              onChange={() => {
                columns.reload()
                queues.reload()
              }}
            />
          ))}
        </div>
      ) : name ? (
        <Loading error={columns.error} what="the board" />
      ) : null}
    </>
  )
}

function Column({
  status,
  jobs,
  total,
  onChange,
}: {
  status: JobStatus
  jobs: Job[]
  total: number | undefined
  onChange: () => void
}) {
  return (
    <section class={`column column-${status}`} aria-labelledby={`col-${status}`}>
      <h2 id={`col-${status}`}>
        {status} <span class="muted">{count(total ?? jobs.length)}</span>
      </h2>
      <ul class="cards">
        {jobs.map((j) => (
          <li key={j.id} class="card job-card" data-job={j.id}>
            <div class="job-card-head">
              <a class="mono" href={jobHref(j.id)} title={j.id}>
                {shortId(j.id)}
              </a>
              <span class="muted small">{priorityName(j.priority)}</span>
            </div>
            <div class="job-card-type">{j.type}</div>
            {status === 'active' ? (
              <ProgressBar percent={j.progress.percent} step={j.progress.step} status="active" compact />
            ) : null}
            {status === 'failed' && j.lastError ? (
              <div class="error-text small">{j.lastError.message}</div>
            ) : null}
            <div class="muted small">
              {j.owner ? `${j.owner} · ` : ''}
              <Ago iso={j.finishedAt ?? j.startedAt ?? j.createdAt} />
            </div>
            {can('promote', j.status) && status === 'held' ? (
              <AsyncButton
                kind="primary"
                label={`Promote job ${j.id}`}
                run={async () => {
                  await api.jobAction(j.id, 'promote')
                  return `Job ${shortId(j.id)} promoted.`
                }}
                then={onChange}
              >
                Promote
              </AsyncButton>
            ) : null}
          </li>
        ))}
      </ul>
      {total !== undefined && total > jobs.length ? (
        <p class="muted small">and {count(total - jobs.length)} more</p>
      ) : null}
    </section>
  )
}
