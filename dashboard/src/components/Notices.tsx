/** Short messages after an action ("3 jobs retried"), read out by screen readers, gone after a while. */
import { type ComponentChildren, createContext } from 'preact'
import { useCallback, useContext, useState } from 'preact/hooks'

type Kind = 'ok' | 'error'
interface Notice {
  id: number
  kind: Kind
  text: string
}

const NoticeContext = createContext<(text: string, kind?: Kind) => void>(() => {})

export const useNotify = () => useContext(NoticeContext)

let next = 1

export function NoticeProvider({ children }: { children: ComponentChildren }) {
  const [notices, setNotices] = useState<Notice[]>([])
  const dismiss = useCallback((id: number) => setNotices((list) => list.filter((n) => n.id !== id)), [])
  const notify = useCallback(
    (text: string, kind: Kind = 'ok') => {
      const id = next++
      setNotices((list) => [...list.slice(-4), { id, kind, text }])
      setTimeout(() => dismiss(id), kind === 'error' ? 12_000 : 6_000)
    },
    [dismiss],
  )
  return (
    <NoticeContext.Provider value={notify}>
      {children}
      <div class="notices" aria-live="polite">
        {notices.map((n) => (
          <div key={n.id} class={`notice notice-${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
            <span>{n.text}</span>
            <button type="button" class="link" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </NoticeContext.Provider>
  )
}
