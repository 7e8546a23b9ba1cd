/**
 * Destinations (admin): the webhooks, Telegram chats and Discord channels that receive every
 * event of their channels, in order, each from its own place in the log. The list refreshes
 * every few seconds while the page is open, so a backlog draining or a retry waiting can be
 * watched without reloading.
 */
import { get } from '../../api/client.js';
import type { DestinationList } from '../../api/types.js';
import { formatCount, formatTime } from '../../components/format.js';
import { usePolling } from '../../components/use-polling.js';
import { useSignedIn } from '../../state/session.js';
import { DestinationForm } from './destination-form.js';
import { DestinationItem } from './destination-item.js';

const REFRESH_MS = 2_000;

export function DestinationsPage() {
  const { me } = useSignedIn();
  // A tick per good answer: an open delivery log refreshes with the list.
  const {
    data: list,
    error,
    receivedAt,
    refresh,
  } = usePolling(() => get<DestinationList>('/api/destinations'), REFRESH_MS);
  const refreshedAt = receivedAt === null ? null : new Date(receivedAt).toISOString();
  const tick = receivedAt ?? 0;

  return (
    <div className="page">
      <header className="page__header">
        <div>
          <h1>Destinations</h1>
          <p className="muted">
            Webhooks, Telegram chats and Discord channels that get every event of their channels, in order. Each keeps
            its own place in the log: when the far side is down it is retried, and nothing is skipped.
          </p>
        </div>
        {list ? (
          <p className="muted small live-note" aria-live="off">
            Log head seq {formatCount(list.headSeq)}
            {refreshedAt ? ` · refreshed ${formatTime(refreshedAt)}` : ''}
          </p>
        ) : null}
      </header>
      {error ? (
        <p className="notice notice--error" role="alert">
          Could not refresh: {error}
        </p>
      ) : null}
      <div className="sidebar-layout">
        <DestinationForm channels={me.channels} onCreated={refresh} />
        <section className="card" aria-labelledby="destinations-heading">
          <h2 id="destinations-heading">All destinations</h2>
          {list === null ? (
            <p className="muted" aria-busy="true">
              Loading…
            </p>
          ) : list.items.length === 0 ? (
            <p className="muted">None yet. Add one, and it receives what is published from then on.</p>
          ) : (
            <ul className="plain-list">
              {list.items.map((destination) => (
                <DestinationItem
                  key={destination.id}
                  destination={destination}
                  channels={me.channels}
                  tick={tick}
                  onChanged={refresh}
                />
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}
