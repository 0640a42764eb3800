/** The dashboard: signs in (or finds the session), then routes between the pages. */
import { useEffect, useState } from 'preact/hooks'
import { LocationProvider, Route, Router } from 'preact-iso'
import { ApiError, api, setCsrfToken, whenSignedOut } from './api/client.js'
import { feed } from './api/live.js'
import { isAdmin, SessionContext } from './api/session.js'
import type { Session } from './api/types.js'
import { Layout } from './components/Layout.js'
import { NoticeProvider } from './components/Notices.js'
import { BatchesPage, BatchPage } from './pages/Batches.js'
import { BoardPage } from './pages/Board.js'
import { JobPage } from './pages/Job.js'
import { JobsPage } from './pages/Jobs.js'
import { NotFound } from './pages/NotFound.js'
import { OverviewPage } from './pages/Overview.js'
import { QueuePage } from './pages/Queue.js'
import { SchedulesPage } from './pages/Schedules.js'
import { SignInPage } from './pages/SignIn.js'
import { StatsPage } from './pages/Stats.js'
import { WorkersPage } from './pages/Workers.js'

type State =
  | { kind: 'loading' }
  | { kind: 'signed-out'; reason?: string }
  | { kind: 'signed-in'; session: Session }

export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' })

  const signedIn = (session: Session) => {
    setCsrfToken(session.csrfToken)
    setState({ kind: 'signed-in', session })
    if (session.role !== 'worker') feed.start()
  }
  const signedOut = (reason?: string) => {
    feed.stop()
    setCsrfToken('')
    setState({ kind: 'signed-out', reason })
  }

  useEffect(() => {
    whenSignedOut(() => signedOut('Your session has ended. Sign in again.'))
    api
      .session()
      .then(signedIn, (error) =>
        signedOut(error instanceof ApiError && error.status === 401 ? undefined : (error as Error).message),
      )
  }, [])

  if (state.kind === 'loading') return <p class="muted center">Loading…</p>
  if (state.kind === 'signed-out') return <SignInPage reason={state.reason} onSignedIn={signedIn} />

  const signOut = async () => {
    await api.signOut().catch(() => {})
    signedOut('You are signed out.')
  }
  const admin = isAdmin(state.session)
  return (
    <SessionContext.Provider value={{ session: state.session, signOut }}>
      <NoticeProvider>
        <LocationProvider>
          <Layout>
            {state.session.role === 'worker' ? (
              <p class="error-box" role="alert">
                A worker key can claim and report jobs, but cannot read the dashboard. Sign out and sign in
                with an admin or user key.
              </p>
            ) : (
              <Router>
                <Route path="/" component={OverviewPage} />
                <Route path="/queues/:name" component={QueuePage} />
                <Route path="/jobs" component={JobsPage} />
                <Route path="/jobs/:id" component={JobPage} />
                <Route path="/board" component={BoardPage} />
                <Route path="/batches" component={BatchesPage} />
                <Route path="/batches/:id" component={BatchPage} />
                <Route path="/schedules" component={SchedulesPage} />
                <Route path="/workers" component={admin ? WorkersPage : NotFound} />
                <Route path="/stats" component={admin ? StatsPage : NotFound} />
                <Route default component={NotFound} />
              </Router>
            )}
          </Layout>
        </LocationProvider>
      </NoticeProvider>
    </SessionContext.Provider>
  )
}
