/** Who is signed in, for every component: their name, role and what that role may do. */
import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { Session } from './types.js'

export interface SessionState {
  session: Session
  signOut: () => Promise<void>
}

export const SessionContext = createContext<SessionState | null>(null)

export function useSession(): SessionState {
  const state = useContext(SessionContext)
  if (!state) throw new Error('useSession outside a signed-in page')
  return state
}

/** Admins steer queues and see workers and statistics; users see and steer only their own jobs. */
export const isAdmin = (s: Session) => s.role === 'admin'
