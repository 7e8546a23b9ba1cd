/** The admin console's main page: compose with preview, and the recent signals to manage. */
import { useState, useSyncExternalStore } from 'react';
import { SideBadge, StatusBadge } from '../../components/badges.js';
import { formatPrice, formatTime } from '../../components/format.js';
import { OriginLine } from '../../components/origin-note.js';
import { Link } from '../../router.js';
import { useSignedIn } from '../../state/session.js';
import { ComposeForm } from './compose-form.js';
import { LifecycleActions } from './lifecycle-actions.js';
import { ReceiptsSummary } from './receipts.js';

const SHOWN_STEP = 20;

export function AdminPage() {
  const { me, feed } = useSignedIn();
  const snapshot = useSyncExternalStore(feed.store.subscribe, feed.store.getSnapshot);
  const [shown, setShown] = useState(SHOWN_STEP);
  const recent = snapshot.feed.slice(0, shown);

  return (
    <div className="page">
      <header className="page__header">
        <div>
          <h1>Admin console</h1>
          <p className="muted">Publish signals and manage their lifecycle.</p>
        </div>
      </header>
      {me.abilities.publish ? <ComposeForm channels={me.channels} /> : null}
      <section className="card" aria-labelledby="recent-heading">
        <h2 id="recent-heading">Recent signals</h2>
        {recent.length === 0 ? <p className="muted">Nothing published yet.</p> : null}
        <ul className="manage-list">
          {recent.map((view) => (
            <li key={view.id} className="manage-item" data-testid="manage-item" data-symbol={view.symbol}>
              <div className="manage-item__head">
                <SideBadge side={view.side} />
                <Link to={`/signals/${view.id}`} className="manage-item__symbol">
                  {view.symbol}
                </Link>
                <span className="muted">
                  #{view.channel} · {formatPrice(view.entry)} · {formatTime(view.createdAt)}
                </span>
                <StatusBadge view={view} />
                {me.abilities.viewReceipts ? <ReceiptsSummary signalId={view.id} refreshKey={view.lastSeq} /> : null}
                {/* A release of another channel's signal: its updates follow the original's by themselves. */}
                {view.origin ? <OriginLine origin={view.origin} releasedAt={view.createdAt} /> : null}
              </div>
              {me.abilities.updateSignals ? <LifecycleActions view={view} /> : null}
            </li>
          ))}
        </ul>
        {snapshot.feed.length > shown || snapshot.cursor !== null ? (
          <button
            type="button"
            className="button button--ghost"
            onClick={() => {
              if (snapshot.feed.length <= shown + SHOWN_STEP) void feed.loadMore();
              setShown((n) => n + SHOWN_STEP);
            }}
          >
            Show more
          </button>
        ) : null}
      </section>
    </div>
  );
}
