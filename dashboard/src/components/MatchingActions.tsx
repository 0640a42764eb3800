/**
 * "Retry all 65 failed in emails": one action on every job the list's filters
 * match, on all pages, done by the server (POST /jobs/actions/{action}). Shown
 * when the list is filtered to one state and knows how many match; each
 * action asks for a confirmation that repeats the count.
 */
import { useState } from 'preact/hooks'
import { api } from '../api/client.js'
import type { BulkFilter, JobStatus } from '../api/types.js'
import { can } from '../lib/states.js'
import { useNotify } from './Notices.js'

type Action = 'retry' | 'cancel' | 'promote' | 'delete'
const TRANSITION = { retry: 'retry', cancel: 'cancel', promote: 'promote', delete: 'remove' } as const
const VERB: Record<Action, [string, string]> = {
  retry: ['Retry', 'retried'],
  cancel: ['Cancel', 'cancelled'],
  promote: ['Promote', 'promoted'],
  delete: ['Delete', 'deleted'],
}

interface Props {
  filter: BulkFilter
  state: JobStatus
  /** Jobs matching, on all pages; `exact` false when there are more than counted. */
  count: { value: number; exact: boolean }
  onDone: () => void
}

export function MatchingActions({ filter, state, count, onDone }: Props) {
  const notify = useNotify()
  const [confirming, setConfirming] = useState<Action | null>(null)
  const [busy, setBusy] = useState(false)
  const actions = (Object.keys(TRANSITION) as Action[]).filter((a) => can(TRANSITION[a], state))
  if (count.value === 0 || actions.length === 0) return null
  const n = `${count.exact ? '' : 'more than '}${count.value.toLocaleString()}`
  const where = filter.queue ? ` in ${filter.queue}` : ''
  const run = async (action: Action) => {
    setBusy(true)
    try {
      const { matched, changed } = await api.actOnMatching(action, filter)
      const jobs = (k: number) => `${k.toLocaleString()} job${k === 1 ? '' : 's'}`
      notify(
        changed === matched
          ? `${jobs(changed)} ${VERB[action][1]}.`
          : `${jobs(changed)} of ${matched} ${VERB[action][1]}; the rest had moved on.`,
      )
    } catch (error) {
      notify((error as Error).message, 'error')
    } finally {
      setBusy(false)
      setConfirming(null)
      onDone()
    }
  }
  if (confirming) {
    return (
      <section class="bulk-all" aria-label="Act on every matching job">
        <span>
          {VERB[confirming][0]} {n} {state} job{count.value === 1 ? '' : 's'}
          {where}, on every page?
        </span>
        <button
          type="button"
          class={confirming === 'delete' || confirming === 'cancel' ? 'btn btn-danger' : 'btn'}
          disabled={busy}
          onClick={() => run(confirming)}
        >
          {VERB[confirming][0]} all {n}
        </button>
        <button type="button" class="btn btn-plain" disabled={busy} onClick={() => setConfirming(null)}>
          Keep them
        </button>
      </section>
    )
  }
  return (
    <section class="bulk-all" aria-label="Act on every matching job">
      {actions.map((a) => (
        <button key={a} type="button" class="btn btn-plain" onClick={() => setConfirming(a)}>
          {VERB[a][0]} all {n} {state}
          {where}
        </button>
      ))}
    </section>
  )
}
