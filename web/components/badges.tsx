/** Side and status badges: colour carries meaning, but the text always says it too. */
import type { SignalView } from '../../shared/events.js';
import type { Side } from '../../shared/schemas.js';
import { statusLabel } from '../../shared/signal-state.js';

export function SideBadge(props: { side: Side }) {
  return <span className={`badge badge--${props.side}`}>{props.side === 'buy' ? 'Buy' : 'Sell'}</span>;
}

export function StatusBadge(props: { view: Pick<SignalView, 'status' | 'tpHit' | 'breakeven'> }) {
  return (
    <span className={`badge status status--${props.view.status}`} data-status={props.view.status}>
      {statusLabel(props.view)}
    </span>
  );
}
