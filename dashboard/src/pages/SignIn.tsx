/** Sign in with an API key: the server starts a session (an httpOnly cookie); this page never stores the key. */
import { useState } from 'preact/hooks'
import { api } from '../api/client.js'
import type { Session } from '../api/types.js'

export function SignInPage({ reason, onSignedIn }: { reason?: string; onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const session = await api.signIn(key.trim())
      setKey('')
      onSignedIn(session)
    } catch (err) {
      setError((err as Error).message)
    } finally {
      setBusy(false)
    }
  }
  return (
    <main id="main" class="signin">
      <form class="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Docket</h1>
        <p class="muted">Sign in with an API key to see and steer your queues.</p>
        {reason ? <p role="status">{reason}</p> : null}
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        {error ? (
          <p class="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="btn btn-primary" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="muted small">
          <code>npm start</code> prints an admin key on its first start; <code>docket keys create</code> makes
          more.
        </p>
      </form>
    </main>
  )
}
