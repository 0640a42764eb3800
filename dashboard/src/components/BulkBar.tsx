/** What to do with the selected jobs: retry, cancel, promote or delete each, then say how it went. */
import { useState } from 'preact/hooks'
import { api } from '../api/client.js'
import { useNotify } from './Notices.js'

type Action = 'retry' | 'cancel' | 'promote' | 'delete'
const DONE: Record<Action, string> = {
  retry: 'retried',
  cancel: 'cancelled',
  promote: 'promoted',
  delete: 'deleted',
}

async function apply(action: Action, ids: string[]): Promise<{ ok: number; refused: string[] }> {
  let ok = 0
  const refused: string[] = []
  const queue = [...ids]
  const run = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        if (action === 'delete') await api.deleteJob(id)
        else await api.jobAction(id, action)
        ok++
      } catch (error) {
        refused.push((error as Error).message)
      }
    }
  }
  await Promise.all([run(), run(), run(), run()])
  return { ok, refused }
}

export function BulkBar({
  selected,
  offPage = 0,
  onDone,
}: {
  selected: string[]
  /** How many of the selected jobs are not on the page shown (a live update moved them). */
  offPage?: number
  onDone: () => void
}) {
  const notify = useNotify()
  const [busy, setBusy] = useState(false)
  const [confirming, setConfirming] = useState(false)
  const n = selected.length
  const run = async (action: Action) => {
    setBusy(true)
    setConfirming(false)
    const { ok, refused } = await apply(action, selected)
    setBusy(false)
    const jobs = (k: number) => `${k} job${k === 1 ? '' : 's'}`
    if (refused.length === 0) notify(`${jobs(ok)} ${DONE[action]}.`)
    else
      notify(
        `${jobs(ok)} ${DONE[action]}; ${jobs(refused.length)} refused: ${refused[0]}${refused.length > 1 ? ' …' : ''}`,
        'error',
      )
    onDone()
  }
  return (
    <section class="bulk" aria-label="Bulk actions">
      <span>
        <strong>{n}</strong> selected
        {offPage > 0 ? <span class="muted small"> ({offPage} no longer on this page)</span> : null}
      </span>
      <button type="button" class="btn btn-plain btn-small" disabled={busy} onClick={onDone}>
        Clear
      </button>
      {(['retry', 'cancel', 'promote'] as const).map((a) => (
        <button key={a} type="button" class="btn btn-plain" disabled={busy || n === 0} onClick={() => run(a)}>
          {a[0]!.toUpperCase() + a.slice(1)}
        </button>
      ))}
      {confirming ? (
        <>
          <button type="button" class="btn btn-danger" disabled={busy} onClick={() => run('delete')}>
            Delete {n} for good
          </button>
          <button type="button" class="btn btn-plain" onClick={() => setConfirming(false)}>
            Keep them
          </button>
        </>
      ) : (
        <button
          type="button"
          class="btn btn-plain"
          disabled={busy || n === 0}
          onClick={() => setConfirming(true)}
        >
          Delete…
        </button>
      )}
    </section>
  )
}
