/** The shell: first-run setup, sign-in, or the signed-in layout with its navigation. */
import { Suspense, useEffect, useSyncExternalStore } from 'react';
import { PageBoundary } from './components/page-boundary.js';
import { LoginPage } from './features/auth/login-page.js';
import { SetupPage } from './features/auth/setup-page.js';
import { Link, matchPath, navigate, usePath } from './router.js';
import { ROUTES, allowed } from './routes.js';
import { SessionProvider, useSession, useSignedIn } from './state/session.js';

export function App() {
  return (
    <SessionProvider>
      <Shell />
    </SessionProvider>
  );
}

function Shell() {
  const { state } = useSession();
  const path = usePath();
  useEffect(() => {
    // Sign-in and setup live at "/": a bookmarked deep link works again after signing in.
    if (state.kind === 'setup' && path !== '/setup') navigate('/setup', { replace: true });
    if (state.kind === 'signed-in' && path === '/setup') navigate('/', { replace: true });
  }, [state.kind, path]);
  switch (state.kind) {
    case 'loading':
      return (
        <div className="splash" aria-busy="true">
          <span className="brand">
            <span className="brand__mark">◆</span> signal-desk
          </span>
        </div>
      );
    case 'setup':
      return <SetupPage />;
    case 'signed-out':
      return <LoginPage notice={state.notice} />;
    case 'signed-in':
      return <SignedIn path={path} />;
  }
}

function SignedIn(props: { path: string }) {
  const { me, feed } = useSignedIn();
  const { signOut } = useSession();
  const unread = useSyncExternalStore(feed.subscribeUnread, feed.getUnread);
  const routes = ROUTES.filter((route) => allowed(route, me.abilities));
  let page = null;
  let title = 'Not found';
  for (const route of routes) {
    const params = matchPath(route.path, props.path);
    if (params) {
      page = route.render(params);
      title = route.title;
      break;
    }
  }
  useEffect(() => {
    document.title = `${unread > 0 ? `(${unread}) ` : ''}${title} · signal-desk`;
  }, [unread, title]);

  return (
    <div className="layout">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          <span className="brand__mark" aria-hidden="true">
            ◆
          </span>
          signal-desk
        </Link>
        <nav aria-label="Main" className="topbar__nav">
          {routes
            .filter((route) => route.nav)
            .map((route) => (
              <Link
                key={route.path}
                to={route.path}
                className="topbar__link"
                aria-current={props.path === route.path ? 'page' : undefined}
              >
                {route.nav}
                {route.path === '/' && unread > 0 ? (
                  <span className="count" data-testid="unread" aria-label={`${unread} unread`}>
                    {unread > 999 ? '999+' : unread}
                  </span>
                ) : null}
              </Link>
            ))}
        </nav>
        <div className="topbar__user">
          <Link
            to="/account"
            className="topbar__email"
            title={`${me.user.email} · account and password`}
            aria-current={props.path === '/account' ? 'page' : undefined}
          >
            {me.user.name ?? me.user.email}
          </Link>
          <button type="button" className="button button--small button--ghost" onClick={() => void signOut()}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <PageBoundary key={props.path}>
          <Suspense
            fallback={
              <div className="page muted" aria-busy="true">
                Loading…
              </div>
            }
          >
            {page ?? (
              <div className="page">
                <h1>Not found</h1>
                <p>
                  <Link to="/">Back to the signals</Link>
                </p>
              </div>
            )}
          </Suspense>
        </PageBoundary>
      </main>
    </div>
  );
}
