/** Statistics of all queues or one: throughput, failure rate, wait and run time percentiles, last hour and day. */
import { useLocation } from 'preact-iso'
import { api } from '../api/client.js'
import { useLiveReload } from '../api/live.js'
import type { Percentiles, WindowStats } from '../api/types.js'
import { Chart, total } from '../components/Chart.js'
import { Loading, PageHead } from '../components/Layout.js'
import { count, duration, percent } from '../lib/format.js'
import { href } from '../lib/url.js'
import { useApi, useInterval } from '../lib/use-api.js'

const FINISHED = ['job.completed', 'job.failed', 'job.retrying', 'job.cancelled']

export function StatsPage() {
  const { query, route } = useLocation()
  const queue = query.queue || undefined
  const queues = useApi(() => api.queues(), [])
  const stats = useApi(() => (queue ? api.queueStats(queue) : api.stats()), [queue])
  useLiveReload((e) => FINISHED.includes(e.kind) && (!queue || e.queue === queue), stats.reload, 3000)
  useInterval(stats.reload, 30_000)
  return (
    <>
      <PageHead title="Statistics">
        <label class="inline-form">
          Queue{' '}
          <select
            value={queue ?? ''}
            onChange={(e) => route(href('/stats', { queue: e.currentTarget.value }))}
          >
            <option value="">all queues</option>
            {queues.data?.map((q) => (
              <option key={q.name} value={q.name}>
                {q.name}
              </option>
            ))}
          </select>
        </label>
      </PageHead>
      {stats.data ? (
        <>
          <Window title="Last hour" w={stats.data.lastHour} bucket="minute" />
          <Window title="Last day" w={stats.data.lastDay} bucket="hour" />
        </>
      ) : (
        <Loading error={stats.error} what="statistics" />
      )}
    </>
  )
}

function Tile({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div class="tile">
      <div class="tile-value">{value}</div>
      <div class="tile-label">{label}</div>
      {hint ? <div class="muted small">{hint}</div> : null}
    </div>
  )
}

const p = (x: Percentiles) => `p50 ${duration(x.p50)} · p90 ${duration(x.p90)} · p99 ${duration(x.p99)}`

function Window({ title, w, bucket }: { title: string; w: WindowStats; bucket: string }) {
  const times = w.series.map((s) => s.t)
  const completed = w.series.map((s) => s.completed)
  const failed = w.series.map((s) => s.failed)
  const rate = w.series.map((s) =>
    s.completed + s.failed === 0 ? null : s.failed / (s.completed + s.failed),
  )
  const id = title.toLowerCase().replace(/\s+/g, '-')
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <div class="tiles">
        <Tile label="throughput" value={`${w.throughputPerMinute.toFixed(2)}/min`} />
        <Tile label="completed" value={count(w.completed)} />
        <Tile label="failed" value={count(w.failed)} />
        <Tile label="expired" value={count(w.expired)} />
        <Tile label="cancelled" value={count(w.cancelled)} />
        <Tile label="failure rate" value={percent(w.failureRate)} />
        <Tile label="wait time (p50)" value={duration(w.waitMs.p50)} hint={p(w.waitMs)} />
        <Tile label="run time (p50)" value={duration(w.runMs.p50)} hint={p(w.runMs)} />
      </div>
      <div class="grid-2">
        <div>
          <h3>Finished per {bucket}</h3>
          <Chart
            times={times}
            label={`${title}: ${total(completed)} completed and ${total(failed)} failed`}
            lines={[
              { label: 'completed', values: completed, color: 'var(--ok)', bars: true },
              { label: 'failed', values: failed, color: 'var(--bad)', bars: true },
            ]}
          />
        </div>
        <div>
          <h3>Failure rate per {bucket}</h3>
          <Chart
            times={times}
            label={`${title}: failure rate ${percent(w.failureRate)}`}
            format={(v) => `${Math.round(v * 100)}%`}
            lines={[{ label: 'failure rate', values: rate, color: 'var(--bad)' }]}
          />
        </div>
      </div>
    </section>
  )
}
