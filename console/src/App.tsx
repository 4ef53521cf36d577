import { useEffect, useRef, useState } from 'preact/hooks';
import { messageOf, onSignedOut } from './api/http.js';
import { can, currentSession, type Session, signOut } from './api/session.js';
import { Link } from './components/Link.js';
import { ApprovalsPage } from './pages/ApprovalsPage.js';
import { MemoriesPage } from './pages/MemoriesPage.js';
import { RunPage } from './pages/RunPage.js';
import { RunsPage } from './pages/RunsPage.js';
import { SignInPage } from './pages/SignInPage.js';
import { SubmitPage } from './pages/SubmitPage.js';
import { navigate, useLocation } from './router.js';

/** The console: sign-in, then the pages the session's roles allow. */
export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    currentSession()
      .then(setSession)
      .catch((e) => setError(messageOf(e)));
    return onSignedOut(() => setSession(null));
  }, []);
  if (error) return <p role="alert">The gateway did not answer: {error}</p>;
  if (session === undefined) return <p aria-busy="true">Loading…</p>;
  if (session === null) return <SignInPage onSignedIn={setSession} />;
  return <Shell session={session} onSignOut={() => signOut().finally(() => setSession(null))} />;
}

function Shell(props: { session: Session; onSignOut: () => void }) {
  const { session } = props;
  const { path } = useLocation();
  const run = /^\/runs\/([^/]+)$/.exec(path);
  let page = <NotFound />;
  let title = 'Not found';
  if (path === '/' || path === '/runs') [page, title] = [<RunsPage session={session} />, 'Runs'];
  else if (run) [page, title] = [<RunPage session={session} runId={decodeURIComponent(run[1])} />, 'Run'];
  else if (path === '/approvals') [page, title] = [<ApprovalsPage session={session} />, 'Approvals'];
  else if (path === '/memories') [page, title] = [<MemoriesPage session={session} />, 'Memories'];
  else if (path === '/submit' && can(session, 'submit')) [page, title] = [<SubmitPage />, 'New run'];
  useEffect(() => {
    document.title = `${title} · Triad console`;
  }, [title]);
  // A new page takes the focus, as a page load would: keyboard and screen-reader users start at its content.
  const first = useRef(true);
  useEffect(() => {
    if (!first.current) document.getElementById('main')?.focus();
    first.current = false;
  }, [path]);
  const section = path.startsWith('/approvals')
    ? 'approvals'
    : path.startsWith('/submit')
      ? 'submit'
      : path.startsWith('/memories')
        ? 'memories'
        : 'runs';
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <strong class="brand">Triad</strong>
        <nav aria-label="Console">
          <Link to="/runs" current={section === 'runs'}>
            Runs
          </Link>
          <Link to="/approvals" current={section === 'approvals'}>
            Approvals
          </Link>
          <Link to="/memories" current={section === 'memories'}>
            Memories
          </Link>
          {can(session, 'submit') && (
            <Link to="/submit" current={section === 'submit'}>
              New run
            </Link>
          )}
          <a href="/admin/queues" hidden={!can(session, 'admin')}>
            Queues
          </a>
        </nav>
        <span class="who">
          {session.name} · {session.roles.join(', ')} · tenant {session.tenant}
        </span>
        {session.keysRequired && (
          <button type="button" class="quiet" onClick={props.onSignOut}>
            Sign out
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no such page.{' '}
        <button type="button" class="link" onClick={() => navigate('/runs')}>
          Back to the runs
        </button>
      </p>
    </section>
  );
}
