/** Picks the colour theme: follow the system, light or dark (lib/theme.ts). */
import { useState } from 'preact/hooks'
import { readTheme, saveTheme, type Theme } from '../lib/theme.js'

export function ThemeSelect() {
  const [theme, setTheme] = useState<Theme>(readTheme())
  return (
    <label class="theme-select small">
      <span class="sr-only">Theme</span>
      <select
        value={theme}
        onChange={(e) => {
          const next = e.currentTarget.value as Theme
          setTheme(next)
          saveTheme(next)
        }}
      >
        <option value="system" title="Follow the system's light or dark setting">
          System
        </option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  )
}
