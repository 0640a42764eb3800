/**
 * The workers, named by their id: where they run, what they can do, how
 * loaded they are, when they last spoke (by the server's clock, ticking).
 * Lost ones stand out; stopped and lost ones can be removed (the maintenance
 * leader also forgets them after a retention period).
 */
import { api } from '../api/client.js'
import { useLiveReload } from '../api/live.js'
import type { Worker } from '../api/types.js'
import { AsyncButton } from '../components/AsyncButton.js'
import { Loading, PageHead } from '../components/Layout.js'
import { Badge } from '../components/StateBadge.js'
import { Ago } from '../components/Time.js'
import { duration } from '../lib/format.js'
import { useApi, useInterval, useNow } from '../lib/use-api.js'

const ORDER = { lost: 0, up: 1, stopped: 2 }

export function WorkersPage() {
  const workers = useApi(() => api.workers(), [])
  useLiveReload((e) => e.kind.startsWith('worker.'), workers.reload, 500)
  useInterval(workers.reload, 5000)
  const now = useNow(1000)
  if (!workers.data) return <Loading error={workers.error} what="workers" />
  const list = workers.data
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
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((w) => (
                <WorkerRow
                  key={w.id}
                  worker={w}
                  age={now - new Date(w.heartbeatAt).getTime()}
                  onRemoved={workers.reload}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  )
}

function WorkerRow({ worker: w, age, onRemoved }: { worker: Worker; age: number; onRemoved: () => void }) {
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
      <td class={w.status === 'lost' ? 'lost-text' : undefined} data-heartbeat-age={Math.max(0, age)}>
        {duration(Math.max(0, age))} ago
      </td>
      <td>
        <Ago iso={w.startedAt} />
      </td>
      <td>
        {w.status === 'up' ? null : (
          <AsyncButton
            kind="plain"
            label={`Remove worker ${w.id}`}
            run={async () => {
              await api.removeWorker(w.id)
              return `Worker ${w.id} removed`
            }}
            then={onRemoved}
          >
            Remove
          </AsyncButton>
        )}
      </td>
    </tr>
  )
}
