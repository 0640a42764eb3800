/** What a job is tied to: the jobs it waits for and those waiting for it, and its files. */
import { api, artifactUrl } from '../../api/client.js'
import type { JobDetail } from '../../api/types.js'
import { bytes, shortId } from '../../lib/format.js'
import { jobHref } from '../../lib/url.js'
import { useApi } from '../../lib/use-api.js'
import { JsonView } from '../JsonView.js'
import { StateBadge } from '../StateBadge.js'

const ON = {
  success: 'waits for it to complete; fails if it fails',
  completion: 'waits until it is final, whatever the outcome',
} as const

function DependencyList({ title, items }: { title: string; items: JobDetail['dependencies']['upstream'] }) {
  return (
    <div>
      <h3>{title}</h3>
      {items.length === 0 ? (
        <p class="muted small">none</p>
      ) : (
        <ul class="plain-list">
          {items.map((d) => (
            <li key={d.id}>
              <a class="mono" href={jobHref(d.id)} title={d.id}>
                {shortId(d.id)}
              </a>{' '}
              <StateBadge status={d.status} />{' '}
              <span class="muted small dependency-on" title={ON[d.on]}>
                on {d.on}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

export function Dependencies({ job }: { job: JobDetail }) {
  return (
    <>
      <div class="two-cols">
        <DependencyList title="Waits for (upstream)" items={job.dependencies.upstream} />
        <DependencyList title="Waited on by (downstream)" items={job.dependencies.downstream} />
      </div>
      {job.dependencies.upstream.some((d) => d.status === 'completed') ? <UpstreamResults job={job} /> : null}
    </>
  )
}

/** What the completed upstream jobs returned: what this job's handler reads with ctx.upstream(). */
function UpstreamResults({ job }: { job: JobDetail }) {
  const key = job.dependencies.upstream.map((d) => `${d.id}:${d.status}`).join(',')
  const upstream = useApi(() => api.upstream(job.id), [job.id, key])
  const done = (upstream.data?.upstream ?? []).filter((u) => u.status === 'completed')
  if (done.length === 0) return null
  return (
    <div class="upstream-results">
      <h3>Upstream results</h3>
      {done.map((u) => (
        <div key={u.id}>
          <a class="mono" href={jobHref(u.id)} title={u.id}>
            {shortId(u.id)}
          </a>{' '}
          <span class="muted small">{u.type}</span>
          <JsonView value={u.result} label={`Result of ${u.id}`} />
        </div>
      ))}
    </div>
  )
}

export function Artifacts({ job }: { job: JobDetail }) {
  if (job.artifacts.length === 0) return <p class="muted">No files.</p>
  return (
    <table class="artifacts">
      <thead>
        <tr>
          <th>File</th>
          <th>Kind</th>
          <th>Type</th>
          <th>Size</th>
          <th>sha256</th>
        </tr>
      </thead>
      <tbody>
        {job.artifacts.map((a) => (
          <tr key={a.id}>
            <td>
              <a href={artifactUrl(a.id)} download={a.name}>
                {a.name}
              </a>
            </td>
            <td>{a.direction}</td>
            <td>{a.mediaType}</td>
            <td>{bytes(a.size)}</td>
            <td class="mono small" title={a.sha256}>
              {a.sha256.slice(0, 12)}…
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
