/** The filters of a job list: state, type, owner, batch; and finding one job by its id. All go in the URL. */
import { useEffect, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { JOB_STATUSES } from '../lib/states.js'
import { href, jobHref } from '../lib/url.js'

export interface Filters {
  state?: string
  type?: string
  owner?: string
  batch?: string
  queue?: string
}

interface Props {
  /** The page's own path (the filters go in its query string). */
  path: string
  filters: Filters
  /** Filters the page fixes (a queue page's queue), not offered here. */
  fixed: (keyof Filters)[]
  showOwner: boolean
}

export function JobFilters({ path, filters, fixed, showOwner }: Props) {
  const { route } = useLocation()
  const [draft, setDraft] = useState<Filters>(filters)
  useEffect(
    () => setDraft(filters),
    [filters.state, filters.type, filters.owner, filters.batch, filters.queue],
  )
  const go = (f: Filters) => route(href(path, { ...f }))
  const field = (key: keyof Filters, label: string) =>
    fixed.includes(key) ? null : (
      <div class="field">
        <label for={`filter-${key}`}>{label}</label>
        <input
          id={`filter-${key}`}
          type="search"
          value={draft[key] ?? ''}
          onInput={(e) => setDraft({ ...draft, [key]: e.currentTarget.value.trim() || undefined })}
        />
      </div>
    )
  return (
    <form
      class="filters"
      aria-label="Filter jobs"
      onSubmit={(e) => {
        e.preventDefault()
        go(draft)
      }}
    >
      <div class="field">
        <label for="filter-state">State</label>
        <select
          id="filter-state"
          value={draft.state ?? ''}
          onChange={(e) => go({ ...draft, state: e.currentTarget.value || undefined })}
        >
          <option value="">any</option>
          {JOB_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      {field('queue', 'Queue')}
      {field('type', 'Type')}
      {showOwner ? field('owner', 'Owner') : null}
      {field('batch', 'Batch id')}
      <div class="field field-buttons">
        <button type="submit" class="btn btn-primary">
          Apply
        </button>
        <a class="btn btn-plain" href={path}>
          Clear
        </a>
      </div>
    </form>
  )
}

/** Goes to a job's page by its id (the id is checked there). */
export function FindJob() {
  const { route } = useLocation()
  const [id, setId] = useState('')
  return (
    <form
      class="find"
      aria-label="Find a job by id"
      onSubmit={(e) => {
        e.preventDefault()
        if (id.trim()) route(jobHref(id.trim().toLowerCase()))
      }}
    >
      <label for="find-job">Job id</label>
      <input
        id="find-job"
        type="search"
        placeholder="0190…"
        spellcheck={false}
        value={id}
        onInput={(e) => setId(e.currentTarget.value)}
      />
      <button type="submit" class="btn btn-plain">
        Find
      </button>
    </form>
  )
}
