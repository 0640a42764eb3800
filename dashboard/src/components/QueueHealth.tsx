/**
 * A queue's health as the server computes it (core/stats.ts, on GET
 * /queues): how far behind it is (latency: the oldest ready job's age), the
 * 1- and 5-minute rates, whether the backlog grows, a loud mark when it is
 * paused with jobs ready, and its top errors, so one bad deploy is one line.
 * Kept apart from the queue page's other parts.
 */
import type { Queue } from '../api/types.js'
import { duration, shortId } from '../lib/format.js'
import { jobHref, queueHref } from '../lib/url.js'
import { Ago } from './Time.js'

export type Health = NonNullable<Queue['health']>

const perMinute = (n: number) => `${n.toFixed(n >= 10 || Number.isInteger(n) ? 0 : 1)}/min`

/** "growing by 2/min", "shrinking by 0.4/min", "steady". */
export function trendText(trend: number): string {
  if (trend > 0) return `↑ growing by ${perMinute(trend)}`
  if (trend < 0) return `↓ shrinking by ${perMinute(-trend)}`
  return 'steady'
}

/** The loud mark: paused while jobs are ready, so nothing will move until someone resumes it. */
export function StalledMark({ health, waiting }: { health: Health; waiting: number }) {
  if (!health.stalled) return null
  return (
    <span class="badge tone-bad stalled" data-testid="stalled">
      ⚠ paused with {waiting > 0 ? `${waiting.toLocaleString()} ` : ''}jobs ready
    </span>
  )
}

/** The figures in a few words, for a row of the overview's queue table. */
export function HealthSummary({ health }: { health: Health }) {
  const { lastMinute, last5Minutes } = health.rates
  return (
    <div class="health-summary small" data-testid="health-summary">
      <div>
        <span class="muted">latency</span>{' '}
        <strong data-testid="latency">{health.latencyMs > 0 ? duration(health.latencyMs) : 'none'}</strong>
      </div>
      <div>
        <span class="muted">1 min</span> {perMinute(lastMinute.completed)} done
        {lastMinute.failed > 0 ? (
          <span class="error-text">, {perMinute(lastMinute.failed)} failed</span>
        ) : null}
      </div>
      <div>
        <span class="muted">5 min</span> {perMinute(last5Minutes.completed)} done
        {last5Minutes.failed > 0 ? (
          <span class="error-text">, {perMinute(last5Minutes.failed)} failed</span>
        ) : null}
      </div>
      <div>
        <span class="muted">backlog</span>{' '}
        <span data-testid="trend">{trendText(health.backlogTrendPerMinute)}</span>
      </div>
    </div>
  )
}

/** The queue page's health card: the figures, the stalled warning and the top errors. */
export function QueueHealthCard({ queue, health }: { queue: string; health: Health }) {
  return (
    <section class="card queue-health" aria-labelledby="health-title">
      <div class="card-head">
        <h2 id="health-title">Health</h2>
        <span class="muted small">by the server’s clock, over the last 1 and 5 minutes</span>
      </div>
      {health.stalled ? (
        <p class="warn-box" data-testid="stalled-box">
          <strong>⚠ Paused with jobs ready.</strong> Nothing in this queue runs until it is resumed.
        </p>
      ) : null}
      <dl class="health-figures">
        <div>
          <dt>Latency</dt>
          <dd data-testid="latency">{health.latencyMs > 0 ? duration(health.latencyMs) : 'none waiting'}</dd>
        </div>
        <div>
          <dt>Last minute</dt>
          <dd>
            {perMinute(health.rates.lastMinute.completed)} done, {perMinute(health.rates.lastMinute.failed)}{' '}
            failed
          </dd>
        </div>
        <div>
          <dt>Last 5 minutes</dt>
          <dd>
            {perMinute(health.rates.last5Minutes.completed)} done,{' '}
            {perMinute(health.rates.last5Minutes.failed)} failed
          </dd>
        </div>
        <div>
          <dt>Backlog</dt>
          <dd data-testid="trend">{trendText(health.backlogTrendPerMinute)}</dd>
        </div>
      </dl>
      <TopErrors queue={queue} errors={health.topErrors} />
    </section>
  )
}

function TopErrors({ queue, errors }: { queue: string; errors: Health['topErrors'] }) {
  if (errors.length === 0) return <p class="muted small">No failures in the last 24 hours.</p>
  return (
    <div class="table-wrap">
      <table class="top-errors" aria-label="Top errors">
        <caption class="sr-only">
          Jobs failed in the last 24 hours, grouped by error fingerprint (the same error, whatever ids and
          numbers its message names)
        </caption>
        <thead>
          <tr>
            <th>Failed</th>
            <th>Error</th>
            <th>Latest</th>
          </tr>
        </thead>
        <tbody>
          {errors.map((e) => (
            <tr key={e.fingerprint} data-error={e.message}>
              <td>
                <a
                  href={queueHref(queue, { state: 'failed', fingerprint: e.fingerprint })}
                  aria-label={`${e.count} failed with ${e.name ?? 'Error'}: ${e.message}: show them`}
                >
                  {e.count.toLocaleString()}
                </a>
              </td>
              <td class="error-cell">
                <span class="mono">{e.name ?? 'Error'}</span>: <span class="error-text">{e.message}</span>
              </td>
              <td class="nowrap">
                <a class="mono" href={jobHref(e.latestJobId)}>
                  {shortId(e.latestJobId)}
                </a>{' '}
                <span class="muted small">
                  <Ago iso={e.latestAt} />
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
