/** The workers: where they run, what they can do, how loaded they are, when they last spoke. Lost ones stand out. */
import { api } from '../api/client.js'
import { useLiveReload } from '../api/live.js'
import type { Worker } from '../api/types.js'
import { Loading, PageHead } from '../components/Layout.js'
import { Badge } from '../components/StateBadge.js'
import { Ago } from '../components/Time.js'
import { duration } from '../lib/format.js'
import { useApi, useInterval, useNow } from '../lib/use-api.js'

const ORDER = { lost: 0, up: 1, stopped: 2 }

export function WorkersPage() {
  const workers = useApi(async () => ({ list: await api.workers(), at: Date.now() }), [])
  useLiveReload((e) => e.kind.startsWith('worker.'), workers.reload, 500)
  useInterval(workers.reload, 5000)
  const now = useNow(1000)
  if (!workers.data) return <Loading error={workers.error} what="workers" />
  const { list, at } = workers.data
  const sorted = [...list].sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.id.localeCompare(b.id))
  const lost = list.filter((w) => w.status === 'lost').length
  const up = list.filter((w) => w.status === 'up').length
  return (
    <>
      <PageHead title="Workers">
        {up} up{lost > 0 ? `, ${lost} lost` : ''}, {list.length - up - lost} stopped
      </PageHead>
      {lost > 0 ? (
        <p class="warn-box" role="alert">
          {lost} worker{lost === 1 ? ' has' : 's have'} stopped sending heartbeats. Their jobs go back to the
          queue when the leases run out.
        </p>
      ) : null}
      {list.length === 0 ? (
        <p class="empty">No workers have registered yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="workers">
            <thead>
              <tr>
                <th>Worker</th>
                <th>Status</th>
                <th>Host</th>
                <th>Kind</th>
                <th>Capabilities</th>
                <th>Queues</th>
                <th>Load</th>
                <th>Heartbeat</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((w) => (
                <WorkerRow key={w.id} worker={w} age={w.heartbeatAgeMs + (now - at)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  )
}

function WorkerRow({ worker: w, age }: { worker: Worker; age: number }) {
  const tone = w.status === 'lost' ? 'bad' : w.status === 'up' ? 'good' : 'neutral'
  return (
    <tr class={`worker-${w.status}`} data-worker={w.id}>
      <td class="mono">{w.id}</td>
      <td>
        <Badge tone={tone}>{w.status === 'lost' ? '⚠ lost' : w.status}</Badge>
      </td>
      <td>
        {w.host}
        {w.pid ? <span class="muted small"> pid {w.pid}</span> : null}
      </td>
      <td>{w.kind}</td>
      <td>{w.capabilities.length ? w.capabilities.join(', ') : <span class="muted">—</span>}</td>
      <td>{w.queues.join(', ')}</td>
      <td>
        <meter min={0} max={w.concurrency} value={w.load} aria-label={`load ${w.load} of ${w.concurrency}`} />{' '}
        {w.load}/{w.concurrency}
      </td>
      <td class={w.status === 'lost' ? 'lost-text' : undefined}>{duration(Math.max(0, age))} ago</td>
      <td>
        <Ago iso={w.startedAt} />
      </td>
    </tr>
  )
}
