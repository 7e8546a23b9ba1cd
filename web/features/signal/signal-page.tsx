/** One signal and its lifecycle timeline, kept current as its events arrive. */
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { StoredEvent } from '../../../shared/events.js';
import { UPDATE_LABELS } from '../../../shared/signal-state.js';
import { ApiError, get } from '../../api/client.js';
import type { SignalDetail } from '../../api/types.js';
import { SideBadge, StatusBadge } from '../../components/badges.js';
import { formatDateTime, formatPrice } from '../../components/format.js';
import { OriginNotice } from '../../components/origin-note.js';
import { Link } from '../../router.js';
import { useSignedIn } from '../../state/session.js';
import { LifecycleActions } from '../admin/lifecycle-actions.js';
import { ReceiptsSummary } from '../admin/receipts.js';

function describe(event: StoredEvent): string {
  if (event.type === 'signal.created')
    return event.data.origin ? `Released from #${event.data.origin.channel}` : 'Published';
  const { data } = event;
  if (data.type === 'tp_hit') return `Take-profit ${data.level ?? ''} hit`;
  return UPDATE_LABELS[data.type];
}

export function SignalPage(props: { id: string }) {
  const { me, feed } = useSignedIn();
  const snapshot = useSyncExternalStore(feed.store.subscribe, feed.store.getSnapshot);
  const known = snapshot.byId.get(props.id);
  const [detail, setDetail] = useState<SignalDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const lastSeq = known?.lastSeq ?? 0;

  useEffect(() => {
    let current = true;
    get<SignalDetail>(`/api/signals/${encodeURIComponent(props.id)}`)
      .then((answer) => {
        if (!current) return;
        setDetail(answer);
        setError(null);
      })
      .catch((e: unknown) => {
        if (current) setError(e instanceof ApiError && e.status === 404 ? 'No such signal.' : String(e));
      });
    return () => {
      current = false;
    };
  }, [props.id, lastSeq]);

  // The live view may be newer than the fetched one for a moment: show the newer.
  const view = known && detail && known.lastSeq > detail.signal.lastSeq ? known : (detail?.signal ?? known);
  if (!view) {
    return (
      <div className="page">
        <Link to="/">← All signals</Link>
        <p className={error ? 'notice notice--error' : 'muted'}>{error ?? 'Loading…'}</p>
      </div>
    );
  }
  return (
    <div className="page">
      <Link to="/" className="back">
        ← All signals
      </Link>
      <header className={`detail__head detail__head--${view.side}`}>
        <SideBadge side={view.side} />
        <h1>{view.symbol}</h1>
        <StatusBadge view={view} />
        <span className="muted">
          {view.market} · #{view.channel}
          {view.timeframe ? ` · ${view.timeframe}` : ''}
          {view.leverage ? ` · ${view.leverage}×` : ''}
        </span>
      </header>
      {view.origin ? <OriginNotice origin={view.origin} releasedAt={view.createdAt} channel={view.channel} /> : null}
      <div className="two-col">
        <section className="card" aria-label="Levels">
          <dl className="levels">
            <div>
              <dt>Entry</dt>
              <dd>{formatPrice(view.entry)}</dd>
            </div>
            <div>
              <dt>Stop loss{view.breakeven ? ' (moved to entry)' : ''}</dt>
              <dd className="price--stop">{formatPrice(view.breakeven ? view.entry : view.stopLoss)}</dd>
            </div>
            {view.takeProfits.map((tp, i) => (
              <div key={i} className={i < view.tpHit ? 'level--hit' : ''}>
                <dt>
                  TP{i + 1}
                  {i < view.tpHit ? ' ✓' : ''}
                </dt>
                <dd className="price--target">{formatPrice(tp)}</dd>
              </div>
            ))}
            {view.exitPrice !== undefined ? (
              <div>
                <dt>Exit</dt>
                <dd>{formatPrice(view.exitPrice)}</dd>
              </div>
            ) : null}
          </dl>
          {view.source ? <p className="muted">Source: {view.source}</p> : null}
          {view.notes ? <p className="notes">{view.notes}</p> : null}
          {me.abilities.viewReceipts ? <ReceiptsSummary signalId={view.id} refreshKey={view.lastSeq} /> : null}
          {me.abilities.updateSignals ? <LifecycleActions view={view} /> : null}
        </section>
        <section className="card" aria-labelledby="timeline-heading">
          <h2 id="timeline-heading">Timeline</h2>
          <ol className="timeline" data-testid="timeline">
            {(detail?.events ?? []).map((event) => (
              <li
                key={event.id}
                className={`timeline__item timeline__item--${event.type === 'signal.created' ? 'created' : event.data.type}`}
              >
                <div className="timeline__title">
                  <strong>{describe(event)}</strong>
                  {event.type === 'signal.updated' && event.data.price !== undefined ? (
                    <span> at {formatPrice(event.data.price)}</span>
                  ) : null}
                </div>
                {event.type === 'signal.updated' && event.data.notes ? (
                  <p className="notes">{event.data.notes}</p>
                ) : null}
                <p className="muted small">
                  <time dateTime={event.createdAt}>{formatDateTime(event.createdAt)}</time> · #{event.seq} ·{' '}
                  <code title={event.hash}>{event.hash.slice(0, 10)}</code>
                  {event.data.origin
                    ? ` · first published in #${event.data.origin.channel} ${formatDateTime(event.data.origin.createdAt)}`
                    : ''}
                </p>
              </li>
            ))}
          </ol>
        </section>
      </div>
    </div>
  );
}
