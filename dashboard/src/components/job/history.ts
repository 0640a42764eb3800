/** A job's history read from its events: the steps it ran and its attempts. Pure functions. */
import type { JobDetail, JobEvent, JobStatus } from '../../api/types.js'

export interface StepRun {
  name: string
  attempt: number
  startedAt: number
  /** Null while running. */
  endedAt: number | null
  status: 'running' | 'completed' | 'failed' | 'interrupted'
  message: string | null
}

export interface Attempt {
  number: number
  startedAt: number
  endedAt: number | null
  /** The state the attempt ended in: completed, scheduled (a retry), failed, waiting (lease lost, released), cancelled. */
  outcome: JobStatus | null
  error: string | null
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

export function attempts(job: JobDetail): Attempt[] {
  const list: Attempt[] = []
  let current: Attempt | null = null
  for (const e of job.events) {
    if (e.kind === 'step.failed' && current && e.message) current.error = e.message
    if (e.kind !== 'state' || e.status === null) continue
    if (e.status === 'active') {
      current = { number: list.length + 1, startedAt: time(e), endedAt: null, outcome: null, error: null }
      list.push(current)
    } else if (current) {
      current.endedAt = time(e)
      current.outcome = e.status
      current = null
    }
  }
  const last = job.lastError
  if (last) {
    const a = list.find((x) => x.number === last.attempt) ?? list[list.length - 1]
    if (a) a.error = last.message
  }
  return list
}
