/** One queue: its settings and counts, an admin's controls, and its jobs. */
import { useEffect } from 'preact/hooks'
import { useRoute } from 'preact-iso'
import { api } from '../api/client.js'
import { isStateEvent, useLiveReload } from '../api/live.js'
import { isAdmin, useSession } from '../api/session.js'
import type { Queue } from '../api/types.js'
import { Counts } from '../components/Counts.js'
import { JobList } from '../components/JobList.js'
import { Loading, PageHead } from '../components/Layout.js'
import { QueueActions } from '../components/QueueActions.js'
import { QueueHealthCard, StalledMark } from '../components/QueueHealth.js'
import { Badge } from '../components/StateBadge.js'
import { ago, dateTime, duration } from '../lib/format.js'
import { boardHref, href, queueHref } from '../lib/url.js'
import { useApi, useNow } from '../lib/use-api.js'

function BusiestGroups({ groups }: { groups: NonNullable<Queue['groups']> }) {
  return (
    <section class="card groups" aria-label="Busiest groups">
      <h2>Busiest groups</h2>
      <table>
        <thead>
          <tr>
            <th>Group</th>
            <th>Active</th>
            <th>Waiting</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.group} data-group={g.group}>
              <td class="mono">{g.group}</td>
              <td>{g.active}</td>
              <td>{g.waiting}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

/** The rate limit as it stands: starts in the window, and when a full window next has room. */
function RateLimitUse({ use, onOpen }: { use: NonNullable<Queue['rateLimitUse']>; onOpen: () => void }) {
  const now = useNow(1000)
  // Nothing is sent when a slot opens: read the queue again then.
  useEffect(() => {
    if (!use.nextSlotAt) return
    const timer = setTimeout(onOpen, Math.max(0, Date.parse(use.nextSlotAt) - Date.now()) + 250)
    return () => clearTimeout(timer)
  }, [use.nextSlotAt, onOpen])
  return (
    <p class="rate-use small" data-full={String(use.full)}>
      Rate limit: <strong>{use.used}</strong> of {use.max} starts in the last {duration(use.intervalMs)}
      {use.per ? ' (the busiest group)' : ''}
      {use.full ? (
        <>
          {' '}
          <Badge tone="warn">full</Badge> next slot{' '}
          {use.nextSlotAt ? (
            <time dateTime={use.nextSlotAt} title={dateTime(use.nextSlotAt)}>
              {ago(use.nextSlotAt, now)}
            </time>
          ) : (
            'unknown'
          )}
        </>
      ) : null}
    </p>
  )
}

export function QueuePage() {
  const { params } = useRoute()
  const name = params.name ?? ''
  const { session } = useSession()
  const queue = useApi(() => api.queue(name), [name])
  useLiveReload(
    (e) => e.queue === name && (isStateEvent(e) || e.kind.startsWith('queue.')),
    queue.reload,
    1500,
  )
  const q = queue.data
  return (
    <>
      <PageHead
        title={
          <>
            <span class="muted">Queue</span> {name}
          </>
        }
        actions={
          <>
            <a class="btn btn-plain" href={boardHref(name)}>
              Board
            </a>
            {isAdmin(session) ? (
              <a class="btn btn-plain" href={href('/stats', { queue: name })}>
                Statistics
              </a>
            ) : null}
          </>
        }
      >
        {q ? (
          <span class="badges">
            {q.status === 'paused' ? <Badge tone="warn">paused</Badge> : <Badge tone="good">active</Badge>}
            {q.health ? <StalledMark health={q.health} waiting={q.counts?.waiting ?? 0} /> : null}
            {q.mode === 'manual' ? <Badge tone="warn">manual</Badge> : <Badge>automatic</Badge>}
            <Badge>{q.ordering === 'fifo' ? 'FIFO' : 'by priority'}</Badge>
            {q.fair ? <Badge>fair between groups</Badge> : null}
            <span class="muted small">
              concurrency {q.concurrency ?? 'unlimited'}
              {q.rateLimit
                ? ` · at most ${q.rateLimit.max} starts per ${duration(q.rateLimit.intervalMs)}${q.rateLimit.per ? ' per group' : ''}`
                : ''}
              {q.groupConcurrency ? ` · ${q.groupConcurrency} at once per group` : ''}
              {q.groupByOwner ? ' · grouped by owner' : ''} · {q.defaults.maxAttempts} attempts · timeout{' '}
              {q.defaults.timeoutMs === null ? 'none' : duration(q.defaults.timeoutMs)}
              {q.description ? ` · ${q.description}` : ''}
            </span>
          </span>
        ) : null}
      </PageHead>
      {q ? (
        <>
          {q.counts ? <Counts counts={q.counts} queue={name} /> : null}
          {q.rateLimitUse ? <RateLimitUse use={q.rateLimitUse} onOpen={queue.reload} /> : null}
          {isAdmin(session) ? null : <p class="muted small">The counts and the list cover your own jobs.</p>}
          {isAdmin(session) ? <QueueActions queue={q} onChange={queue.reload} /> : null}
          {q.health ? <QueueHealthCard queue={name} health={q.health} /> : null}
          {q.groups && q.groups.length > 0 ? <BusiestGroups groups={q.groups} /> : null}
        </>
      ) : (
        <Loading error={queue.error} what="the queue" />
      )}
      {q || !queue.error ? <JobList path={queueHref(name)} queue={name} /> : null}
    </>
  )
}
