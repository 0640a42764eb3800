/** Schedules: each with its timing, its next runs, and its latest runs with their outcomes; pause, resume, run now. */
import { api } from '../api/client.js'
import { isStateEvent, useLiveReload } from '../api/live.js'
import type { RunOutcome, Schedule, ScheduleRun } from '../api/types.js'
import { AsyncButton } from '../components/AsyncButton.js'
import { Loading, PageHead } from '../components/Layout.js'
import { Badge, StateBadge } from '../components/StateBadge.js'
import { Ago } from '../components/Time.js'
import { dateTime, duration, shortId } from '../lib/format.js'
import { jobHref, queueHref } from '../lib/url.js'
import { useApi, useInterval } from '../lib/use-api.js'

const NOT_A_JOB: Partial<Record<RunOutcome, 'warn' | 'bad' | 'neutral'>> = {
  skipped: 'warn',
  error: 'bad',
  removed: 'neutral',
}

function timing(s: Schedule): string {
  if (s.cron) return `${s.cron}${s.timezone ? ` (${s.timezone})` : ' (UTC)'}`
  return `every ${duration(s.every ?? 0)}`
}

function Outcome({ run }: { run: ScheduleRun }) {
  const tone = NOT_A_JOB[run.outcome]
  const badge = tone ? <Badge tone={tone}>{run.outcome}</Badge> : <StateBadge status={run.outcome as never} />
  return (
    <li class="schedule-run" data-run={run.id} title={run.reason ?? undefined}>
      <time dateTime={run.at} title={dateTime(run.at)}>
        {dateTime(run.at)}
      </time>{' '}
      {run.manual ? <span class="muted small">run now </span> : null}
      {run.jobId ? <a href={jobHref(run.jobId)}>{badge}</a> : badge}
      {run.jobId ? <span class="muted small mono"> {shortId(run.jobId)}</span> : null}
      {run.reason ? <span class="muted small"> {run.reason}</span> : null}
    </li>
  )
}

function ScheduleRow({ schedule: s, onChange }: { schedule: Schedule; onChange: () => void }) {
  return (
    <tr data-schedule={s.id} class={s.enabled ? undefined : 'schedule-paused'}>
      <td>
        <strong>{s.name}</strong>
        <div class="muted small">{s.owner ?? 'no owner'}</div>
      </td>
      <td class="mono">{timing(s)}</td>
      <td>
        <a href={queueHref(s.queue)}>{s.queue}</a> · {s.type}
        <div class="muted small">
          catch-up {s.catchUp} · overlap {s.overlap}
        </div>
      </td>
      <td>{s.enabled ? <Badge tone="good">active</Badge> : <Badge tone="warn">paused</Badge>}</td>
      <td>
        {s.nextRuns.length === 0 ? (
          <span class="muted">—</span>
        ) : (
          <ul class="plain-list next-runs">
            {s.nextRuns.map((t) => (
              <li key={t}>
                <time dateTime={t} title={dateTime(t)}>
                  {dateTime(t)}
                </time>
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>
        {s.runs.length === 0 ? (
          <span class="muted">none yet</span>
        ) : (
          <ul class="plain-list last-runs">
            {s.runs.map((r) => (
              <Outcome key={r.id} run={r} />
            ))}
          </ul>
        )}
        {s.lastRunAt ? (
          <div class="muted small">
            last <Ago iso={s.lastRunAt} />
          </div>
        ) : null}
      </td>
      <td>
        <div class="row-actions">
          <AsyncButton
            label={`${s.enabled ? 'Pause' : 'Resume'} schedule ${s.name}`}
            run={async () => {
              await api.scheduleAction(s.id, s.enabled ? 'pause' : 'resume')
              return `${s.name} ${s.enabled ? 'paused' : 'resumed'}.`
            }}
            then={onChange}
          >
            {s.enabled ? 'Pause' : 'Resume'}
          </AsyncButton>
          <AsyncButton
            label={`Run schedule ${s.name} now`}
            run={async () => {
              const run = await api.runSchedule(s.id)
              return `${s.name}: ${run.outcome}${run.reason ? ` (${run.reason})` : ''}.`
            }}
            then={onChange}
          >
            Run now
          </AsyncButton>
        </div>
      </td>
    </tr>
  )
}

export function SchedulesPage() {
  const list = useApi(() => api.schedules(), [])
  useLiveReload(isStateEvent, list.reload, 2000)
  useInterval(list.reload, 10_000)
  if (!list.data) return <Loading error={list.error} what="schedules" />
  const schedules = list.data
  const paused = schedules.filter((s) => !s.enabled).length
  return (
    <>
      <PageHead title="Schedules">
        {schedules.length} schedule{schedules.length === 1 ? '' : 's'}
        {paused > 0 ? `, ${paused} paused` : ''}. The maintenance leader adds each tick’s job once.
      </PageHead>
      {schedules.length === 0 ? (
        <p class="empty">
          No schedules yet. Create one with <code>docket schedules create</code> or POST /api/v1/schedules.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="schedules">
            <thead>
              <tr>
                <th>Schedule</th>
                <th>When</th>
                <th>Makes</th>
                <th>Status</th>
                <th>Next runs</th>
                <th>Latest runs</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {schedules.map((s) => (
                <ScheduleRow key={s.id} schedule={s} onChange={list.reload} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  )
}
