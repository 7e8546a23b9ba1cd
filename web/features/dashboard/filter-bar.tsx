import { MARKETS, SIDES, STATUSES } from '../../../shared/schemas.js';
import type { Channel } from '../../api/types.js';
import { NO_FILTERS, isFiltered, type Filters } from './filters.js';

const STATUS_NAMES: Record<(typeof STATUSES)[number], string> = {
  open: 'Open',
  tp_hit: 'TP hit',
  sl_hit: 'SL hit',
  closed: 'Closed',
  cancelled: 'Cancelled',
};

export function FilterBar(props: { filters: Filters; channels: Channel[]; onChange(filters: Filters): void }) {
  const { filters, onChange } = props;
  const set =
    (key: keyof Filters) =>
    (event: { target: { value: string } }): void =>
      onChange({ ...filters, [key]: event.target.value });
  return (
    <form className="filters" role="search" onSubmit={(e) => e.preventDefault()} aria-label="Filter signals">
      <label className="filters__search">
        <span className="sr-only">Search</span>
        <input type="search" placeholder="Search symbol, notes, source…" value={filters.q} onChange={set('q')} />
      </label>
      <label>
        <span className="sr-only">Channel</span>
        <select value={filters.channel} onChange={set('channel')} aria-label="Channel">
          <option value="">All channels</option>
          {props.channels.map((c) => (
            <option key={c.slug} value={c.slug}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="sr-only">Market</span>
        <select value={filters.market} onChange={set('market')} aria-label="Market">
          <option value="">All markets</option>
          {MARKETS.map((m) => (
            <option key={m} value={m}>
              {m[0]?.toUpperCase() + m.slice(1)}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="sr-only">Symbol</span>
        <input
          className="filters__symbol"
          placeholder="Symbol"
          value={filters.symbol}
          onChange={set('symbol')}
          aria-label="Symbol"
        />
      </label>
      <label>
        <span className="sr-only">Side</span>
        <select value={filters.side} onChange={set('side')} aria-label="Side">
          <option value="">Buy & sell</option>
          {SIDES.map((s) => (
            <option key={s} value={s}>
              {s === 'buy' ? 'Buy' : 'Sell'}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="sr-only">Status</span>
        <select value={filters.status} onChange={set('status')} aria-label="Status">
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_NAMES[s]}
            </option>
          ))}
        </select>
      </label>
      {isFiltered(filters) ? (
        <button type="button" className="button button--ghost button--small" onClick={() => onChange(NO_FILTERS)}>
          Clear
        </button>
      ) : null}
    </form>
  );
}
