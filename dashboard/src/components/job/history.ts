/** A job's steps read from its events. Pure functions. */
import type { JobEvent } from '../../api/types.js'

export interface StepRun {
  name: string
  attempt: number
  startedAt: number
  /** Null while running. */
  endedAt: number | null
  status: 'running' | 'completed' | 'failed' | 'interrupted'
  message: string | null
}

const time = (e: JobEvent) => new Date(e.at).getTime()
const durationOf = (e: JobEvent) => {
  const d = (e.data as { durationMs?: unknown } | null)?.durationMs
  return typeof d === 'number' ? d : null
}

export function stepRuns(events: JobEvent[]): StepRun[] {
  const runs: StepRun[] = []
  let attempt = 0
  for (const e of events) {
    if (e.kind === 'state' && e.status === 'active') {
      attempt++
      for (const r of runs) if (r.status === 'running') r.status = 'interrupted'
    } else if (e.kind === 'step.started' && e.step) {
      runs.push({
        name: e.step,
        attempt,
        startedAt: time(e),
        endedAt: null,
        status: 'running',
        message: null,
      })
    } else if ((e.kind === 'step.completed' || e.kind === 'step.failed') && e.step) {
      const run = runs.findLast((r) => r.name === e.step && r.status === 'running')
      if (!run) continue
      const d = durationOf(e)
      run.endedAt = d === null ? time(e) : run.startedAt + d
      run.status = e.kind === 'step.completed' ? 'completed' : 'failed'
      if (e.message) run.message = e.message
    } else if (e.kind === 'progress' && e.step && e.message) {
      const run = runs.findLast((r) => r.name === e.step)
      if (run) run.message = e.message
    }
  }
  return runs
}
