/** Jobs of a queue counted by state; each number links to the queue's jobs in that state. */
import type { Counts as StatusCounts } from '../api/types.js'
import { count } from '../lib/format.js'
import { JOB_STATUSES } from '../lib/states.js'
import { queueHref } from '../lib/url.js'

export function Counts({ counts, queue }: { counts: StatusCounts; queue?: string }) {
  return (
    <ul class="counts" aria-label="jobs by state">
      {JOB_STATUSES.map((s) => {
        const n = counts[s] ?? 0
        const inner = (
          <>
            <span class="counts-n">{count(n)}</span> <span class="counts-label">{s}</span>
          </>
        )
        return (
          <li key={s} class={`counts-item state-${s}${n === 0 ? ' counts-zero' : ''}`}>
            {queue ? (
              <a class="counts-chip" href={queueHref(queue, { state: s })}>
                {inner}
              </a>
            ) : (
              <span class="counts-chip">{inner}</span>
            )}
          </li>
        )
      })}
    </ul>
  )
}
