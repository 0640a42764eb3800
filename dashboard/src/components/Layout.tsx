/** The frame of every page: a skip link, the navigation, the job search, the live indicator, who is signed in. */
import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { useFeedStatus } from '../api/live.js'
import { isAdmin, useSession } from '../api/session.js'
import { SiteSearch } from './JobFilters.js'
import { ThemeSelect } from './ThemeSelect.js'

const LINKS: { href: string; label: string; admin?: boolean }[] = [
  { href: '/', label: 'Overview' },
  { href: '/jobs', label: 'Jobs' },
  { href: '/board', label: 'Board' },
  { href: '/batches', label: 'Batches' },
  { href: '/schedules', label: 'Schedules' },
  { href: '/workers', label: 'Workers', admin: true },
  { href: '/stats', label: 'Statistics', admin: true },
]

const LIVE_TEXT = { live: 'Live', connecting: 'Connecting…', offline: 'Offline' }

export function Layout({ children }: { children: ComponentChildren }) {
  const { session, signOut } = useSession()
  const { path } = useLocation()
  const live = useFeedStatus()
  const current = (href: string) =>
    href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`)
  // On a phone the navigation, search and account fold into a menu, closed again on every page change.
  const [menuOpen, setMenuOpen] = useState(false)
  useEffect(() => setMenuOpen(false), [path])
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class={`top${menuOpen ? ' menu-open' : ''}`}>
        <a class="brand" href="/">
          Docket
        </a>
        <span class={`live live-${live}`} data-live={live} title="The live event feed">
          <span class="live-dot" aria-hidden="true" />
          {LIVE_TEXT[live]}
        </span>
        <button
          type="button"
          class="btn btn-plain btn-small menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="site-menu"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <div class="menu" id="site-menu">
          <nav aria-label="Main">
            <ul>
              {LINKS.filter((l) => !l.admin || isAdmin(session)).map((l) => (
                <li key={l.href}>
                  <a href={l.href} aria-current={current(l.href) ? 'page' : undefined}>
                    {l.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          {session.role === 'worker' ? null : <SiteSearch />}
          <div class="who">
            <ThemeSelect />
            <span class="muted">
              {session.name} <span class="role">({session.role})</span>
            </span>
            {session.csrfToken !== 'none' ? (
              <button type="button" class="btn btn-plain btn-small" onClick={() => void signOut()}>
                Sign out
              </button>
            ) : null}
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  )
}

/** The top of a page: its title, what it is about, and actions on the right. */
export function PageHead({
  title,
  children,
  actions,
}: {
  title: ComponentChildren
  children?: ComponentChildren
  actions?: ComponentChildren
}) {
  return (
    <div class="page-head">
      <div>
        <h1>{title}</h1>
        {children ? <div class="page-sub">{children}</div> : null}
      </div>
      {actions ? <div class="page-actions">{actions}</div> : null}
    </div>
  )
}

export function Loading({ error, what }: { error?: Error; what: string }) {
  if (error)
    return (
      <p class="error-box" role="alert">
        Could not load {what}: {error.message}
      </p>
    )
  return (
    <p class="muted" aria-busy="true">
      Loading {what}…
    </p>
  )
}
