/** The subscriber's live feed: newest first, filters, history by scrolling, alerts on request. */
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { BellIcon, MonitorIcon, PhoneIcon } from '../../components/icons.js';
import { Link } from '../../router.js';
import { useSignedIn } from '../../state/session.js';
import { useAlerts } from './alerts.js';
import { ConnectionIndicator } from './connection-indicator.js';
import { FilterBar } from './filter-bar.js';
import { NO_FILTERS, isFiltered, type Filters } from './filters.js';
import { SignalList } from './signal-list.js';
import { useFilteredSignals } from './use-filtered-signals.js';

export function DashboardPage() {
  const { me, feed } = useSignedIn();
  const snapshot = useSyncExternalStore(feed.store.subscribe, feed.store.getSnapshot);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const filtered = useFilteredSignals(feed.store, snapshot, filters);
  const alerts = useAlerts();
  const [loadingMore, setLoadingMore] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);

  // The feed on screen is what "read" means; leaving the page stops counting as reading.
  useEffect(() => {
    feed.setReading(true);
    return () => feed.setReading(false);
  }, [feed]);

  useEffect(() => {
    feed.listeners.onArrival = alerts.notify;
    return () => {
      feed.listeners.onArrival = undefined;
    };
  }, [feed, alerts.notify]);

  const loadMore = useCallback(() => {
    setLoadingMore(true);
    feed
      .loadMore()
      .then(() => setLoadError(null))
      .catch((error: unknown) => setLoadError(error instanceof Error ? error.message : String(error)))
      .finally(() => setLoadingMore(false));
  }, [feed]);

  const active = isFiltered(filters);
  const channels = me.channels;
  return (
    <div className="page">
      <header className="page__header">
        <div>
          <h1>Signals</h1>
          <p className="muted">
            {channels.length === 0
              ? 'You have no channels yet. Ask an admin to grant you one.'
              : `${channels.map((c) => c.name).join(', ')}`}
          </p>
        </div>
        <div className="page__tools">
          <ConnectionIndicator connection={feed.connection} />
          <div className="toggle-group" role="group" aria-label="Alerts">
            <button
              type="button"
              className="button button--small"
              aria-pressed={alerts.sound}
              onClick={alerts.toggleSound}
            >
              <BellIcon off={!alerts.sound} />
              Sound
            </button>
            <button
              type="button"
              className="button button--small"
              aria-pressed={alerts.desktop}
              onClick={alerts.toggleDesktop}
              disabled={alerts.desktopBlocked}
              title={alerts.desktopBlocked ? 'Notifications are blocked in this browser' : undefined}
            >
              <MonitorIcon />
              Desktop alerts
            </button>
          </div>
          {/* The alerts above need this tab open; push reaches the device with signal-desk closed. */}
          <Link
            to="/account#notifications"
            className="button button--small"
            title="New signals on this phone or computer, even while signal-desk is closed"
          >
            <PhoneIcon />
            Push notifications
          </Link>
        </div>
      </header>
      <FilterBar filters={filters} channels={channels} onChange={setFilters} />
      {loadError || filtered.error ? (
        <p className="notice notice--error" role="alert">
          {loadError ?? filtered.error}{' '}
          {loadError ? (
            <button type="button" className="button button--small" onClick={() => setLoadError(null)}>
              Try again
            </button>
          ) : null}
        </p>
      ) : null}
      {active ? (
        <SignalList
          items={filtered.items}
          fresh={snapshot.fresh}
          hasMore={!filtered.done}
          loading={filtered.loading}
          onLoadMore={filtered.loadMore}
          empty="No signal matches these filters."
        />
      ) : (
        <SignalList
          items={snapshot.feed}
          fresh={snapshot.fresh}
          hasMore={snapshot.cursor !== null && !loadError}
          loading={loadingMore}
          onLoadMore={loadMore}
          empty="No signals yet. New ones appear here the moment they are published."
        />
      )}
    </div>
  );
}
