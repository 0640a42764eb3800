/** What may be done to a job in its state: retry, cancel, promote, change priority, delete. */
import { useEffect, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { api } from '../../api/client.js'
import type { Job } from '../../api/types.js'
import { PRIORITIES } from '../../lib/format.js'
import { can } from '../../lib/states.js'
import { queueHref } from '../../lib/url.js'
import { AsyncButton } from '../AsyncButton.js'
import { useNotify } from '../Notices.js'

export function JobActions({ job, onChange }: { job: Job; onChange: () => void }) {
  const notify = useNotify()
  const { route } = useLocation()
  const [priority, setPriority] = useState(String(job.priority))
  const [confirmDelete, setConfirmDelete] = useState(false)
  // Cancelling a running job stops its handler mid-work: asked first. A job that has not started is cancelled at once.
  const [confirmCancel, setConfirmCancel] = useState(false)
  useEffect(() => setConfirmCancel(false), [job.status])
  useEffect(() => setPriority(String(job.priority)), [job.priority])
  const s = job.status
  const act = (action: 'retry' | 'cancel' | 'promote', done: string) => async () => {
    const j = await api.jobAction(job.id, action)
    return `Job ${done}: now ${j.status}.`
  }
  const savePriority = async (e: Event) => {
    e.preventDefault()
    try {
      const j = await api.setPriority(job.id, Number(priority))
      notify(`Priority set to ${j.priority}.`)
      onChange()
    } catch (error) {
      notify((error as Error).message, 'error')
    }
  }
  const nothing = !['retry', 'cancel', 'promote', 'reprioritise', 'remove'].some((a) => can(a as 'retry', s))
  return (
    <div class="job-actions">
      {can('retry', s) ? (
        <AsyncButton kind="primary" run={act('retry', 'retried')} then={onChange}>
          Retry
        </AsyncButton>
      ) : null}
      {can('promote', s) ? (
        <AsyncButton kind="primary" run={act('promote', 'promoted')} then={onChange}>
          Promote
        </AsyncButton>
      ) : null}
      {can('cancel', s) && s === 'active' && confirmCancel ? (
        <>
          <span class="muted small">Its handler is stopped mid-work.</span>
          <AsyncButton kind="danger" run={act('cancel', 'cancelled')} then={onChange}>
            Cancel the running job
          </AsyncButton>
          <button type="button" class="btn btn-plain" onClick={() => setConfirmCancel(false)}>
            Let it run
          </button>
        </>
      ) : can('cancel', s) && s === 'active' ? (
        <button type="button" class="btn btn-danger" onClick={() => setConfirmCancel(true)}>
          Cancel…
        </button>
      ) : can('cancel', s) ? (
        <AsyncButton kind="danger" run={act('cancel', 'cancelled')} then={onChange}>
          Cancel
        </AsyncButton>
      ) : null}
      {can('reprioritise', s) ? (
        <form class="inline-form" onSubmit={savePriority}>
          <label for="priority">Priority</label>
          <select id="priority" value={priority} onChange={(e) => setPriority(e.currentTarget.value)}>
            {PRIORITIES.map(([name, value]) => (
              <option key={name} value={value}>
                {name} ({value})
              </option>
            ))}
            {PRIORITIES.some(([, v]) => String(v) === String(job.priority)) ? null : (
              <option value={job.priority}>{job.priority}</option>
            )}
          </select>
          <button type="submit" class="btn btn-plain" disabled={priority === String(job.priority)}>
            Set priority
          </button>
        </form>
      ) : null}
      {can('remove', s) ? (
        confirmDelete ? (
          <>
            <AsyncButton
              kind="danger"
              run={async () => {
                await api.deleteJob(job.id)
                route(queueHref(job.queue))
                return 'Job deleted.'
              }}
            >
              Delete for good
            </AsyncButton>
            <button type="button" class="btn btn-plain" onClick={() => setConfirmDelete(false)}>
              Keep it
            </button>
          </>
        ) : (
          <button type="button" class="btn btn-plain" onClick={() => setConfirmDelete(true)}>
            Delete…
          </button>
        )
      ) : null}
      {nothing ? <span class="muted small">Nothing to do while it is {s}.</span> : null}
    </div>
  )
}
