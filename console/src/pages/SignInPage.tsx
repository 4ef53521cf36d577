import { useState } from 'preact/hooks';
import { messageOf } from '../api/http.js';
import { type Session, signIn } from '../api/session.js';

/** Sign-in with an API key: the gateway answers with a session cookie the page cannot read, gone with the browser. */
export function SignInPage(props: { onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await signIn(key.trim()));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <h1>Triad console</h1>
      <form onSubmit={submit} aria-describedby="signin-help">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'signin-error' : undefined}
        />
        <p id="signin-help" class="hint">
          The key stays with the gateway: this browser keeps only a session, until it is closed or you sign out. The
          key's roles decide what you can do here.
        </p>
        {error && (
          <p id="signin-error" role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || !key.trim()}>
          Sign in
        </button>
      </form>
    </main>
  );
}
