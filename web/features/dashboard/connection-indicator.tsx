import { useEffect, useState, useSyncExternalStore } from 'react';
import { RefreshIcon } from '../../components/icons.js';
import type { Connection, ConnectionState } from '../../realtime/connection.js';

function describe(state: ConnectionState, now: number): { label: string; detail: string | null } {
  switch (state.status) {
    case 'live':
      return { label: 'Live', detail: null };
    case 'connecting':
      return { label: 'Connecting…', detail: null };
    case 'offline':
      return { label: 'Offline', detail: 'showing saved signals' };
    case 'stopped':
      return { label: 'Disconnected', detail: null };
    case 'reconnecting': {
      if (state.nextAttemptAt === null) return { label: 'Reconnecting…', detail: `attempt ${state.attempt}` };
      const seconds = Math.max(0, Math.ceil((state.nextAttemptAt - now) / 1000));
      return { label: 'Reconnecting', detail: `next attempt in ${seconds}s` };
    }
  }
}

/** Live / reconnecting (with when the next attempt is due) / offline, and a manual reconnect. */
export function ConnectionIndicator(props: { connection: Connection }) {
  const state = useSyncExternalStore(props.connection.subscribe, props.connection.getState);
  const [now, setNow] = useState(() => Date.now());
  const counting = state.status === 'reconnecting' && state.nextAttemptAt !== null;
  useEffect(() => {
    if (!counting) return;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [counting]);
  const { label, detail } = describe(state, now);
  const canRetry = state.status === 'reconnecting' || state.status === 'offline';
  return (
    <div className={`connection connection--${state.status}`} data-testid="connection" data-state={state.status}>
      <span className="connection__dot" aria-hidden="true" />
      <span role="status" aria-live="polite">
        <strong>{label}</strong>
        {detail ? <span className="connection__detail"> · {detail}</span> : null}
      </span>
      {canRetry ? (
        <button type="button" className="button button--small" onClick={() => props.connection.reconnectNow()}>
          <RefreshIcon />
          Reconnect now
        </button>
      ) : null}
    </div>
  );
}
