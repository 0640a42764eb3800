/**
 * A page of jobs read from the server with the URL's filters, paged with the
 * server's cursors (fast at any depth), kept live from the event feed:
 * progress moves in place, state changes reload the page.
 */
import { useEffect, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { api } from '../api/client.js'
import { isStateEvent, useFeed, useLiveReload } from '../api/live.js'
import { isAdmin, useSession } from '../api/session.js'
import type { FeedEvent, JobFilter, JobPage, JobStatus } from '../api/types.js'
import { href } from '../lib/url.js'
import { useApi } from '../lib/use-api.js'
import { BulkBar } from './BulkBar.js'
import { type Filters, JobFilters } from './JobFilters.js'
import { JobsTable } from './JobsTable.js'
import { Loading } from './Layout.js'
import { MatchingActions } from './MatchingActions.js'

const PAGE = 50

interface Props {
  /** The page's path; filters and the cursor go in its query string. */
  path: string
  /** Filters this page fixes. */
  queue?: string
  batch?: string
}

export function JobList({ path, queue, batch }: Props) {
  const { query, route } = useLocation()
  const { session } = useSession()
  const admin = isAdmin(session)
  const filters: Filters = {
    state: query.state || undefined,
    type: query.type || undefined,
    owner: admin ? query.owner || undefined : undefined,
    batch: batch ?? (query.batch || undefined),
    fingerprint: query.fingerprint || undefined,
    queue: queue ?? (query.queue || undefined),
    search: query.search || undefined,
    where: query.where || undefined,
  }
  const searching = filters.search !== undefined || filters.where !== undefined
  const oneState = filters.state && !filters.state.includes(',') ? (filters.state as JobStatus) : undefined
  const cursor = query.cursor || undefined
  const sort = (query.sort as JobFilter['sort']) || undefined
  const order = (query.order as JobFilter['order']) || undefined
  const key = JSON.stringify([filters, cursor, sort, order])

  const page = useApi<JobPage>(
    () =>
      api.jobs({
        queue: filters.queue,
        status: filters.state,
        type: filters.type,
        owner: filters.owner,
        batchId: filters.batch,
        fingerprint: filters.fingerprint,
        search: filters.search,
        where: filters.where,
        // Always counted (up to the server's limit): the list says how many match in all.
        count: true,
        cursor,
        sort,
        order,
        limit: PAGE,
      }),
    [key],
  )

  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [previous, setPrevious] = useState<(string | undefined)[]>([])
  const filterKey = JSON.stringify([filters, sort, order])
  useEffect(() => {
    setSelected(new Set())
    setPrevious([])
  }, [filterKey])

  // Paused, the list stays as it is (to read it, or to pick jobs) until resumed, which reloads it once.
  const [paused, setPaused] = useState(false)
  const mine = (e: FeedEvent) => filters.queue === undefined || e.queue === filters.queue
  useLiveReload((e) => !paused && isStateEvent(e) && mine(e), page.reload, 1000)
  useFeed((e) => {
    if (paused || (e.kind !== 'job.progress' && e.kind !== 'job.step.started')) return
    page.update((p) => ({
      ...p,
      jobs: p.jobs.map((j) =>
        j.id === e.jobId
          ? {
              ...j,
              progress: {
                percent: e.percent ?? j.progress.percent,
                step: e.step ?? j.progress.step,
                message: e.kind === 'job.progress' ? (e.message ?? j.progress.message) : j.progress.message,
              },
            }
          : j,
      ),
    }))
  })

  const params = {
    ...filters,
    queue: queue ? undefined : filters.queue,
    batch: batch ? undefined : filters.batch,
  }
  const goTo = (c: string | undefined) => route(href(path, { ...params, sort, order, cursor: c }))
  const select = (ids: string[], on: boolean) =>
    setSelected((s) => {
      const next = new Set(s)
      for (const id of ids) on ? next.add(id) : next.delete(id)
      return next
    })
  const jobs = page.data?.jobs ?? []
  // A ticked job stays ticked when a live update moves it off this page: the bar still counts and acts on it.
  const chosen = [...selected]
  const offPage = chosen.filter((id) => !jobs.some((j) => j.id === id)).length

  return (
    <section class="job-list" aria-label="Jobs">
      <div class="list-tools">
        <JobFilters
          path={path}
          filters={params}
          fixed={[...(queue ? (['queue'] as const) : []), ...(batch ? (['batch'] as const) : [])]}
          showOwner={admin}
        />
      </div>
      <div class="list-bar">
        <label class="sort">
          Sort{' '}
          <select
            value={`${sort ?? 'createdAt'}:${order ?? 'desc'}`}
            onChange={(e) => {
              const [s, o] = e.currentTarget.value.split(':')
              route(href(path, { ...params, sort: s, order: o }))
            }}
          >
            <option value="createdAt:desc">newest first</option>
            <option value="createdAt:asc">oldest first</option>
            <option value="priority:desc">highest priority first</option>
            <option value="runAt:asc">next to run first</option>
          </select>
        </label>
        <label class="pause-live">
          <input
            type="checkbox"
            checked={paused}
            onChange={(e) => {
              setPaused(e.currentTarget.checked)
              if (!e.currentTarget.checked) page.reload()
            }}
          />{' '}
          Pause live updates
        </label>
        {chosen.length > 0 ? (
          <BulkBar
            selected={chosen}
            offPage={offPage}
            onDone={() => {
              setSelected(new Set())
              page.reload()
            }}
          />
        ) : (
          <span class="muted small">Select jobs to retry, cancel, promote or delete them together.</span>
        )}
      </div>
      {oneState && page.data?.count && !page.error ? (
        <MatchingActions
          filter={{
            queue: filters.queue,
            status: oneState,
            type: filters.type,
            owner: filters.owner,
            batchId: filters.batch,
            fingerprint: filters.fingerprint,
            search: filters.search,
            where: filters.where,
          }}
          state={oneState}
          count={page.data.count}
          onDone={() => {
            setSelected(new Set())
            page.reload()
          }}
        />
      ) : null}
      {page.error && page.data ? (
        <p class="error-box" role="alert">
          {page.error.message}
        </p>
      ) : null}
      {searching && page.data?.count && !page.error ? (
        <p class="muted small" data-testid="match-count">
          {page.data.count.exact
            ? `${page.data.count.value.toLocaleString()} job${page.data.count.value === 1 ? '' : 's'} match`
            : `More than ${page.data.count.value.toLocaleString()} jobs match`}
        </p>
      ) : null}
      {page.data ? (
        <JobsTable jobs={jobs} selected={selected} onSelect={select} showQueue={!queue} showOwner={admin} />
      ) : (
        <Loading error={page.error} what="jobs" />
      )}
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          class="btn btn-plain"
          disabled={!cursor}
          onClick={() => {
            const back = previous[previous.length - 1]
            setPrevious(previous.slice(0, -1))
            goTo(back)
          }}
        >
          {previous.length > 0 || !cursor ? '← Previous' : '← First page'}
        </button>
        <span class="muted small" data-testid="total-count">
          {jobs.length} on this page
          {page.data?.count ? ` of ${totalText(page.data.count)}` : ''}
        </span>
        <button
          type="button"
          class="btn btn-plain"
          disabled={!page.data?.nextCursor}
          onClick={() => {
            setPrevious([...previous, cursor])
            goTo(page.data?.nextCursor ?? undefined)
          }}
        >
          Next →
        </button>
      </nav>
    </section>
  )
}

/** "1,234 jobs", or "more than 10,000 jobs" past the server's counting limit. */
function totalText(count: NonNullable<JobPage['count']>): string {
  const n = count.value.toLocaleString()
  if (!count.exact) return `more than ${n} jobs`
  return `${n} job${count.value === 1 ? '' : 's'}`
}
