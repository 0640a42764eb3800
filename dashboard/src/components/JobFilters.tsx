/**
 * The filters of a job list (state, queue, type, owner, batch, text search,
 * payload filter), all in the URL, with the queues and types the caller's
 * jobs use as suggestions; and the search box in every page's header.
 */
import { useEffect, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { api } from '../api/client.js'
import { JOB_STATUSES } from '../lib/states.js'
import { href, jobHref } from '../lib/url.js'
import { useApi } from '../lib/use-api.js'

export interface Filters {
  state?: string
  type?: string
  owner?: string
  batch?: string
  /** An error class (the top errors' fingerprint). */
  fingerprint?: string
  queue?: string
  search?: string
  where?: string
}

/** Input fields that offer suggestions, and the datalist each one uses. */
const SUGGESTED: Partial<Record<keyof Filters, string>> = { queue: 'suggest-queues', type: 'suggest-types' }

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
    [
      filters.state,
      filters.type,
      filters.owner,
      filters.batch,
      filters.fingerprint,
      filters.queue,
      filters.search,
      filters.where,
    ],
  )
  const suggestions = useApi(() => api.jobSuggestions(), [])
  const go = (f: Filters) => route(href(path, { ...f }))
  const field = (key: keyof Filters, label: string, placeholder?: string, wide = false) =>
    fixed.includes(key) ? null : (
      <div class={wide ? 'field field-wide' : 'field'}>
        <label for={`filter-${key}`}>{label}</label>
        <input
          id={`filter-${key}`}
          type="search"
          list={SUGGESTED[key]}
          placeholder={placeholder}
          spellcheck={false}
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
      {field('fingerprint', 'Error class', 'fingerprint from the top errors')}
      {field('search', 'Search', 'id, payload or error text', true)}
      {field('where', 'Payload filter', 'payload.customerId = 42', true)}
      <datalist id="suggest-queues">
        {(suggestions.data?.queues ?? []).map((q) => (
          <option key={q} value={q} />
        ))}
      </datalist>
      <datalist id="suggest-types">
        {(suggestions.data?.types ?? []).map((t) => (
          <option key={t} value={t} />
        ))}
      </datalist>
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

const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** What could be part of an id: 6+ hex digits, dashes allowed (the server decides). */
const ID_LIKE = /^[0-9a-f-]{6,36}$/i

/**
 * The search box in every page's header. A full id opens the job; a short id
 * or an id prefix opens the job it names when it names exactly one; text that
 * starts with `payload.` is a payload filter; anything else searches the jobs.
 */
export function SiteSearch() {
  const { route } = useLocation()
  const [text, setText] = useState('')
  const find = async (value: string) => {
    if (FULL_ID.test(value)) return route(jobHref(value.toLowerCase()))
    if (/^payload\./.test(value)) return route(href('/jobs', { where: value }))
    if (ID_LIKE.test(value) && /[0-9a-f]{6}/i.test(value.replaceAll('-', ''))) {
      const page = await api.jobs({ id: value, limit: 2 }).catch(() => null)
      if (page?.jobs.length === 1) return route(jobHref(page.jobs[0]!.id))
    }
    route(href('/jobs', { search: value }))
  }
  return (
    <search aria-label="Find jobs">
      <form
        class="find"
        onSubmit={(e) => {
          e.preventDefault()
          const value = text.trim()
          if (value) void find(value)
        }}
      >
        <input
          id="site-search"
          type="search"
          aria-label="Find jobs"
          placeholder="Find: id, short id, text, payload.key = value"
          spellcheck={false}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <button type="submit" class="btn btn-plain">
          Find
        </button>
      </form>
    </search>
  )
}
