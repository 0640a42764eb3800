/**
 * The overview: every queue with its counts by state and, for admins,
 * throughput and failure sparklines, a global throughput chart, and the
 * workers, lost ones first.
 */
import { api } from '../api/client.js'
import { isStateEvent, useLiveReload } from '../api/live.js'
import { isAdmin, useSession } from '../api/session.js'
import type { Queue, Stats, Worker } from '../api/types.js'
import { Chart, total } from '../components/Chart.js'
import { Counts } from '../components/Counts.js'
import { Loading, PageHead } from '../components/Layout.js'
import { HealthSummary, StalledMark } from '../components/QueueHealth.js'
import { Badge } from '../components/StateBadge.js'
import { duration, percent } from '../lib/format.js'
import { href, queueHref } from '../lib/url.js'
import { useApi, useInterval, useNow } from '../lib/use-api.js'

export function OverviewPage() {
  const { session } = useSession()
  const admin = isAdmin(session)
  const queues = useApi(() => api.queues(), [])
  useLiveReload((e) => isStateEvent(e) || e.kind.startsWith('queue.'), queues.reload, 1500)
  return (
    <>
      <PageHead title="Overview">
        {admin
          ? 'Every queue, its jobs by state, and the workers.'
          : `Signed in as ${session.name}. The counts and job lists cover your own jobs.`}
      </PageHead>
      {admin ? <Throughput /> : null}
      <section aria-labelledby="queues-title">
        <h2 id="queues-title">Queues</h2>
        {queues.data ? (
          queues.data.length === 0 ? (
            <p class="empty">No queues yet. Create one with the API or `docket queues create`.</p>
          ) : (
            <QueueTable queues={queues.data} admin={admin} />
          )
        ) : (
          <Loading error={queues.error} what="queues" />
        )}
      </section>
      {admin ? <WorkersSummary /> : null}
    </>
  )
}

function QueueTable({ queues, admin }: { queues: Queue[]; admin: boolean }) {
  const stats = useApi(
    async () =>
      admin
        ? Object.fromEntries(
            await Promise.all(
              queues.slice(0, 50).map(async (q) => [q.name, await api.queueStats(q.name)] as const),
            ),
          )
        : {},
    [admin, queues.map((q) => q.name).join('\n')],
  )
  useInterval(stats.reload, 15_000)
  return (
    <div class="table-wrap">
      <table class="queues">
        <thead>
          <tr>
            <th>Queue</th>
            <th>Jobs by state</th>
            <th>Health</th>
            {admin ? <th>Last hour</th> : null}
          </tr>
        </thead>
        <tbody>
          {queues.map((q) => (
            <tr key={q.name} data-queue={q.name}>
              <td>
                <a class="queue-name" href={queueHref(q.name)}>
                  {q.name}
                </a>
                <div class="badges">
                  {q.status === 'paused' ? <Badge tone="warn">paused</Badge> : null}
                  {q.health ? <StalledMark health={q.health} waiting={q.counts?.waiting ?? 0} /> : null}
                  {q.mode === 'manual' ? <Badge tone="warn">manual</Badge> : null}
                  {q.concurrency !== null ? <Badge>{`max ${q.concurrency}`}</Badge> : null}
                  {q.rateLimit ? (
                    <Badge>{`${q.rateLimit.max} per ${duration(q.rateLimit.intervalMs)}`}</Badge>
                  ) : null}
                </div>
              </td>
              <td>{q.counts ? <Counts counts={q.counts} queue={q.name} /> : null}</td>
              <td>{q.health ? <HealthSummary health={q.health} /> : null}</td>
              {admin ? (
                <td>{stats.data?.[q.name] ? <Sparklines stats={stats.data[q.name]!} /> : null}</td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function Sparklines({ stats }: { stats: Stats }) {
  const w = stats.lastHour
  const times = w.series.map((s) => s.t)
  const completed = w.series.map((s) => s.completed)
  const failed = w.series.map((s) => s.failed)
  return (
    <div class="sparks">
      <div class="spark">
        <Chart
          sparkline
          times={times}
          label={`${total(completed)} completed in the last hour`}
          lines={[{ label: 'completed', values: completed, color: 'var(--ok)' }]}
        />
        <span class="small">{total(completed)} done</span>
      </div>
      <div class="spark">
        <Chart
          sparkline
          times={times}
          label={`${total(failed)} failed in the last hour`}
          lines={[{ label: 'failed', values: failed, color: 'var(--bad)' }]}
        />
        <span class={total(failed) > 0 ? 'small error-text' : 'small'}>{total(failed)} failed</span>
      </div>
    </div>
  )
}

function Throughput() {
  const stats = useApi(() => api.stats(), [])
  useInterval(stats.reload, 15_000)
  useLiveReload((e) => e.kind === 'job.completed' || e.kind === 'job.failed', stats.reload, 5000)
  const w = stats.data?.lastHour
  if (!w) return <Loading error={stats.error} what="throughput" />
  return (
    <section class="card" aria-labelledby="throughput-title">
      <div class="card-head">
        <h2 id="throughput-title">Throughput, last hour</h2>
        <span class="muted small">
          {w.throughputPerMinute.toFixed(2)}/min · failure rate {percent(w.failureRate)} · run p50{' '}
          {duration(w.runMs.p50)} · <a href="/stats">more statistics</a>
        </span>
      </div>
      <Chart
        times={w.series.map((s) => s.t)}
        height={160}
        label={`${w.completed} completed and ${w.failed} failed in the last hour`}
        lines={[
          { label: 'completed', values: w.series.map((s) => s.completed), color: 'var(--ok)', bars: true },
          { label: 'failed', values: w.series.map((s) => s.failed), color: 'var(--bad)', bars: true },
        ]}
      />
    </section>
  )
}

function WorkersSummary() {
  const workers = useApi(() => api.workers(), [])
  useInterval(workers.reload, 5000)
  useLiveReload((e) => e.kind.startsWith('worker.'), workers.reload, 500)
  const list = workers.data ?? []
  const lost = list.filter((w) => w.status === 'lost')
  const up = list.filter((w) => w.status === 'up')
  return (
    <section aria-labelledby="workers-title">
      <h2 id="workers-title">
        Workers <span class="muted small">{up.length} up</span>{' '}
        {lost.length > 0 ? <Badge tone="bad">{`${lost.length} lost`}</Badge> : null}
      </h2>
      {workers.data ? (
        up.length + lost.length === 0 ? (
          <p class="empty">No workers running.</p>
        ) : (
          <ul class="worker-chips">
            {[...lost, ...up].map((w) => (
              <WorkerChip key={w.id} worker={w} />
            ))}
          </ul>
        )
      ) : (
        <Loading error={workers.error} what="workers" />
      )}
      <p>
        <a href={href('/workers')}>All workers</a>
      </p>
    </section>
  )
}

function WorkerChip({ worker: w }: { worker: Worker }) {
  const now = useNow(1000)
  return (
    <li class={`chip worker-${w.status}`} data-worker={w.id}>
      <strong class="mono">{w.id}</strong> <span class="muted small">{w.host}</span>{' '}
      <span class="muted small">{w.kind}</span>{' '}
      {w.status === 'lost' ? <Badge tone="bad">⚠ lost</Badge> : null}
      <div class="small">
        load {w.load}/{w.concurrency} · heartbeat{' '}
        {duration(Math.max(0, now - new Date(w.heartbeatAt).getTime()))} ago
      </div>
    </li>
  )
}
