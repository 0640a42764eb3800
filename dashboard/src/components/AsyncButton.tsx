/** A button that runs an API call: disabled while it runs, its outcome shown as a notice. */
import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { useNotify } from './Notices.js'

interface Props {
  run: () => Promise<string | undefined>
  children: ComponentChildren
  kind?: 'primary' | 'danger' | 'plain'
  label?: string
  disabled?: boolean
  /** Called after a successful run (to reload what it changed). */
  then?: () => void
}

export function AsyncButton({ run, children, kind = 'plain', label, disabled, then }: Props) {
  const [busy, setBusy] = useState(false)
  const notify = useNotify()
  const onClick = async () => {
    setBusy(true)
    try {
      const message = await run()
      if (message) notify(message)
      then?.()
    } catch (error) {
      notify((error as Error).message, 'error')
    } finally {
      setBusy(false)
    }
  }
  return (
    <button
      type="button"
      class={`btn btn-${kind}`}
      aria-label={label}
      disabled={disabled || busy}
      aria-busy={busy}
      onClick={onClick}
    >
      {children}
    </button>
  )
}
