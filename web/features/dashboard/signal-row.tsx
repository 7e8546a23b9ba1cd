import { memo } from 'react';
import type { SignalView } from '../../../shared/events.js';
import { SideBadge, StatusBadge } from '../../components/badges.js';
import { formatPrice, formatTime } from '../../components/format.js';
import { OriginLine, originSummary } from '../../components/origin-note.js';
import { Link } from '../../router.js';

/** One signal in the feed: everything a trader needs at a glance, and a link to its timeline. */
export const SignalRow = memo(function SignalRow(props: { view: SignalView; fresh: boolean }) {
  const { view } = props;
  return (
    <Link
      to={`/signals/${view.id}`}
      className={`signal-row signal-row--${view.side}${props.fresh ? ' signal-row--fresh' : ''}`}
      data-testid="signal-row"
      data-id={view.id}
      data-seq={view.seq}
      data-symbol={view.symbol}
      data-status={view.status}
      // The label replaces the row's text for screen readers: a late copy must say so here too.
      aria-label={`${view.side} ${view.symbol}, ${view.status.replace('_', ' ')}${
        view.origin ? `, ${originSummary(view.origin, view.createdAt)}` : ''
      }`}
    >
      <div className="signal-row__main">
        <SideBadge side={view.side} />
        <span className="signal-row__symbol">{view.symbol}</span>
        {props.fresh ? <span className="badge badge--new">New</span> : null}
        <span className="signal-row__meta">
          {view.market} · #{view.channel}
          {view.timeframe ? ` · ${view.timeframe}` : ''}
        </span>
        {view.origin ? <OriginLine origin={view.origin} releasedAt={view.createdAt} /> : null}
      </div>
      <dl className="signal-row__prices">
        <div>
          <dt>Entry</dt>
          <dd>{formatPrice(view.entry)}</dd>
        </div>
        <div>
          <dt>Stop</dt>
          <dd className="price--stop">{formatPrice(view.stopLoss)}</dd>
        </div>
        <div className="signal-row__tps">
          <dt>Targets</dt>
          <dd>
            {view.takeProfits.map((tp, i) => (
              <span key={i} className={`tp${i < view.tpHit ? ' tp--hit' : ''}`}>
                {formatPrice(tp)}
              </span>
            ))}
          </dd>
        </div>
      </dl>
      <div className="signal-row__side">
        <StatusBadge view={view} />
        <time dateTime={view.createdAt} className="signal-row__time">
          {formatTime(view.createdAt)}
        </time>
      </div>
    </Link>
  );
});
