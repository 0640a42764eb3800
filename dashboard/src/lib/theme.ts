/**
 * The colour theme: follow the system (the default), or light or dark
 * whatever the system says. Kept in this browser (localStorage) and applied
 * as data-theme on <html>, which styles.css turns into its color-scheme.
 */
export type Theme = 'system' | 'light' | 'dark'

const KEY = 'docket.theme'

/** Dispatched on window when the theme is chosen: what draws its own colours (charts) draws again. */
export const THEME_CHANGED = 'docket:theme'

export function readTheme(): Theme {
  try {
    const saved = localStorage.getItem(KEY)
    return saved === 'light' || saved === 'dark' ? saved : 'system'
  } catch {
    return 'system' // storage refused (private mode, a policy): follow the system
  }
}

export function applyTheme(theme: Theme): void {
  if (theme === 'system') delete document.documentElement.dataset.theme
  else document.documentElement.dataset.theme = theme
  window.dispatchEvent(new Event(THEME_CHANGED))
}

export function saveTheme(theme: Theme): void {
  applyTheme(theme)
  try {
    if (theme === 'system') localStorage.removeItem(KEY)
    else localStorage.setItem(KEY, theme)
  } catch {
    // not kept across visits: still applied to this page
  }
}
