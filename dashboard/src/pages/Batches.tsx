/** Batches: progress and counts by state of each, cancel the rest or retry the failed; one batch with its jobs. */
import { useState } from 'preact/hooks'
import { useLocation, useRoute } from 'preact-iso'
import { ApiError, api } from '../api/client.js'
import { isStateEvent, useLiveReload } from '../api/live.js'
import type { Batch } from '../api/types.js'
import { AsyncButton } from '../components/AsyncButton.js'
import { Counts } from '../components/Counts.js'
import { JobList } from '../components/JobList.js'
import { Loading, PageHead } from '../components/Layout.js'
import { ProgressBar } from '../components/ProgressBar.js'
import { Ago } from '../components/Time.js'
import { shortId } from '../lib/format.js'
import { batchHref, href, jobHref } from '../lib/url.js'
import { useApi } from '../lib/use-api.js'

const LIVE = ['waiting', 'scheduled', 'blocked', 'held', 'active'] as const

function BatchActions({ batch, onChange }: { batch: Batch; onChange: () => void }) {
  const unfinished = LIVE.reduce((n, s) => n + batch.counts[s], 0)
  return (
    <div class="row-actions">
      {unfinished > 0 ? (
        <AsyncButton
          kind="danger"
          label={`Cancel batch ${batch.name ?? batch.id}`}
          run={async () => `${(await api.batchAction(batch.id, 'cancel')).changed} jobs cancelled.`}
          then={onChange}
        >
          Cancel {unfinished}
        </AsyncButton>
      ) : null}
      {batch.counts.failed > 0 ? (
        <AsyncButton
          label={`Retry the failed jobs of batch ${batch.name ?? batch.id}`}
          run={async () => `${(await api.batchAction(batch.id, 'retry')).changed} jobs retried.`}
          then={onChange}
        >
          Retry {batch.counts.failed} failed
        </AsyncButton>
      ) : null}
    </div>
  )
}

function BatchSummary({ batch, onChange, link }: { batch: Batch; onChange: () => void; link: boolean }) {
  return (
    <li class="card batch" data-batch={batch.id}>
      <div class="batch-head">
        <h2>
          {link ? (
            <a href={batchHref(batch.id)}>{batch.name ?? shortId(batch.id)}</a>
          ) : (
            (batch.name ?? batch.id)
          )}
        </h2>
        <span class="muted small">
          {batch.total} jobs · {batch.owner ?? 'no owner'} · <Ago iso={batch.createdAt} />
        </span>
        <BatchActions batch={batch} onChange={onChange} />
      </div>
      <ProgressBar percent={batch.progress} />
      <Counts counts={batch.counts} />
    </li>
  )
}

export function BatchesPage() {
  const { query, route } = useLocation()
  const before = query.before || undefined
  const page = useApi(() => api.batches(before), [before])
  useLiveReload(isStateEvent, page.reload, 2000)
  const [find, setFind] = useState('')
  return (
    <>
      <PageHead
        title="Batches"
        actions={
          <form
            class="find"
            aria-label="Find a batch by id"
            onSubmit={(e) => {
              e.preventDefault()
              if (find.trim()) route(batchHref(find.trim()))
            }}
          >
            <label for="find-batch">Batch id</label>
            <input
              id="find-batch"
              type="search"
              value={find}
              onInput={(e) => setFind(e.currentTarget.value)}
            />
            <button type="submit" class="btn btn-plain">
              Find
            </button>
          </form>
        }
      >
        Newest first.
      </PageHead>
      {page.data ? (
        page.data.batches.length === 0 ? (
          <p class="empty">No batches{before ? ' before this one' : ' yet'}.</p>
        ) : (
          <ul class="batches">
            {page.data.batches.map((b) => (
              <BatchSummary key={b.id} batch={b} onChange={page.reload} link />
            ))}
          </ul>
        )
      ) : (
        <Loading error={page.error} what="batches" />
      )}
      <nav class="pager" aria-label="Pages">
        {before ? (
          <a class="btn btn-plain" href="/batches">
            ← Newest
          </a>
        ) : (
          <span />
        )}
        {page.data?.nextBefore ? (
          <a class="btn btn-plain" href={href('/batches', { before: page.data.nextBefore })}>
            Older →
          </a>
        ) : null}
      </nav>
    </>
  )
}

export function BatchPage() {
  const { params } = useRoute()
  const id = params.id ?? ''
  const batch = useApi(() => api.batch(id), [id])
  useLiveReload(isStateEvent, batch.reload, 1500)
  if (!batch.data) {
    if (batch.error instanceof ApiError && (batch.error.status === 404 || batch.error.status === 400))
      return (
        <>
          <PageHead title="Batch not found" />
          <p>
            No batch <code>{id}</code> that you can see. <a href="/batches">All batches</a>
          </p>
        </>
      )
    return <Loading error={batch.error} what="the batch" />
  }
  return (
    <>
      <PageHead title={<>Batch {batch.data.name ?? ''}</>}>
        <span class="mono small">{batch.data.id}</span>
      </PageHead>
      <ul class="batches">
        <BatchSummary batch={batch.data} onChange={batch.reload} link={false} />
      </ul>
      {batch.data.thenJobId ? (
        <section class="card then-job" aria-labelledby="then-title">
          <h2 id="then-title">Then</h2>
          <p>
            <a class="mono" href={jobHref(batch.data.thenJobId)}>
              {shortId(batch.data.thenJobId)}
            </a>{' '}
            <span class="muted small">runs once every job of this batch is final, whatever the outcomes</span>
          </p>
        </section>
      ) : null}
      <JobList path={batchHref(id)} batch={id} />
    </>
  )
}
