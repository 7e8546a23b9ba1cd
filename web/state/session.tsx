/**
 * Who is signed in, and the live feed that belongs to that session. The session starts
 * from the server (`/api/me`), or — when the server cannot be reached — from the cached
 * copy of the last `/api/me`, so the dashboard still opens offline. Logging out deletes
 * the cached signals and turns this browser's push notifications off; an expired or disabled
 * session ends with a message saying why.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError, get, onSignedOut, post, setCsrfToken } from '../api/client.js';
import type { Me, SessionStart } from '../api/types.js';
import { turnOffThisDevice } from '../pwa/web-push.js';
import { loadCache } from './cache.js';
import { Feed } from './feed.js';

export type SessionState =
  | { kind: 'loading' }
  | { kind: 'setup' }
  | { kind: 'signed-out'; notice: Notice | null }
  | { kind: 'signed-in'; me: Me; feed: Feed };

export interface Notice {
  tone: 'info' | 'warning' | 'error';
  text: string;
}

export interface Session {
  state: SessionState;
  signIn(start: SessionStart): Promise<void>;
  signOut(): Promise<void>;
  /**
   * Ends every session of this account, this one included (`/api/auth/logout-everywhere`).
   * Throws, and stays signed in, when the server did not confirm it: a local sign-out would
   * leave the other devices signed in while the user believes otherwise.
   */
  signOutEverywhere(): Promise<void>;
  /** Re-reads `/api/me` (after a change to the user's own channels, for instance). */
  refresh(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside <SessionProvider>');
  return session;
}

/** The signed-in part of the session; only for pages behind sign-in. */
export function useSignedIn(): { me: Me; feed: Feed } {
  const { state } = useSession();
  if (state.kind !== 'signed-in') throw new Error('useSignedIn without a session');
  return state;
}

/** What to tell the user when the server says the session is over. */
export function noticeFor(error: ApiError): Notice | null {
  if (error.code === 'session_expired') return { tone: 'warning', text: 'Your session expired. Sign in again.' };
  if (error.code === 'account_disabled') return { tone: 'error', text: 'This account is disabled. Ask an admin.' };
  if (error.status === 401 && error.message.includes('session')) {
    return { tone: 'warning', text: 'You were signed out. Sign in again.' };
  }
  return null;
}

export function SessionProvider(props: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ kind: 'loading' });
  const feedRef = useRef<Feed | null>(null);

  const endFeed = useCallback(() => {
    feedRef.current?.stop();
    feedRef.current = null;
  }, []);

  const begin = useCallback(
    (me: Me, offline: boolean) => {
      // `me` is fresh from the server unless we start offline from the cached copy.
      endFeed();
      setCsrfToken(me.csrfToken);
      const feed = new Feed(me, async () => {
        try {
          await get<Me>('/api/me');
          return false;
        } catch (error) {
          return error instanceof ApiError && error.signedOut;
        }
      });
      feedRef.current = feed;
      setState({ kind: 'signed-in', me, feed });
      void feed.start(offline, !offline);
    },
    [endFeed],
  );

  useEffect(() => {
    const unsubscribe = onSignedOut((error) => {
      endFeed();
      setCsrfToken(null);
      // A late 401 (a poll that was in flight) must not replace the notice of a sign-out already shown.
      setState((current) =>
        current.kind === 'signed-out' ? current : { kind: 'signed-out', notice: noticeFor(error) },
      );
    });
    void (async () => {
      // One round trip: who am I, and (in case nobody is) does the first admin still need creating.
      const [me, setup] = await Promise.allSettled([
        get<Me>('/api/me', { quiet: true }),
        get<{ needed: boolean }>('/api/setup', { quiet: true }),
      ]);
      if (me.status === 'fulfilled') return begin(me.value, false);
      const error = me.reason as unknown;
      if (!(error instanceof ApiError)) throw error;
      if (setup.status === 'fulfilled' && setup.value.needed) return setState({ kind: 'setup' });
      if (error.status === 0) {
        const cached = await loadCache();
        if (cached) return begin({ ...cached.me, csrfToken: null }, true);
      }
      setState({
        kind: 'signed-out',
        notice: error.status === 0 ? { tone: 'error', text: error.message } : noticeFor(error),
      });
    })();
    return () => {
      unsubscribe();
      endFeed();
    };
  }, [begin, endFeed]);

  const signIn = useCallback(
    async (start: SessionStart) => {
      setCsrfToken(start.csrfToken);
      begin(await get<Me>('/api/me'), false);
    },
    [begin],
  );

  /** Forgets this browser's copy of the session (the feed and its cached signals) and shows `notice`. */
  const leave = useCallback(async (feed: Feed | null, notice: Notice) => {
    if (feedRef.current === feed) feedRef.current = null;
    await feed?.discard();
    setCsrfToken(null);
    setState({ kind: 'signed-out', notice });
  }, []);

  const signOut = useCallback(async () => {
    // Taken before the request: the server closes this session's socket, and the feed noticing
    // that may end the session locally (dropping `feedRef`) before the answer arrives.
    const feed = feedRef.current;
    // While the session still allows it: a signed-out browser gets no more of the account's signals.
    await turnOffThisDevice();
    try {
      await post('/api/auth/logout');
    } catch {
      // Signed out locally either way; the session expires on the server.
    }
    await leave(feed, { tone: 'info', text: 'You are signed out.' });
  }, [leave]);

  const signOutEverywhere = useCallback(async () => {
    const feed = feedRef.current;
    await turnOffThisDevice();
    await post('/api/auth/logout-everywhere');
    await leave(feed, { tone: 'info', text: 'You are signed out on every device.' });
  }, [leave]);

  const refresh = useCallback(async () => {
    const me = await get<Me>('/api/me');
    setState((current) => (current.kind === 'signed-in' ? { ...current, me } : current));
  }, []);

  const value = useMemo(
    () => ({ state, signIn, signOut, signOutEverywhere, refresh }),
    [state, signIn, signOut, signOutEverywhere, refresh],
  );
  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>;
}
