/** The dashboard's filters, matching the server's `GET /api/signals` query one to one. */
import type { SignalView } from '../../../shared/events.js';
import type { Market, Side, SignalStatus } from '../../../shared/schemas.js';

export interface Filters {
  channel: string;
  market: Market | '';
  symbol: string;
  side: Side | '';
  status: SignalStatus | '';
  q: string;
}

export const NO_FILTERS: Filters = { channel: '', market: '', symbol: '', side: '', status: '', q: '' };

export function isFiltered(filters: Filters): boolean {
  return Object.values(filters).some((value) => value.trim() !== '');
}

/** The same test the server applies, for signals that arrive live after a filtered query. */
export function matches(view: SignalView, filters: Filters): boolean {
  if (filters.channel && view.channel !== filters.channel) return false;
  if (filters.market && view.market !== filters.market) return false;
  if (filters.side && view.side !== filters.side) return false;
  if (filters.status && view.status !== filters.status) return false;
  if (filters.symbol.trim() && view.symbol.toUpperCase() !== filters.symbol.trim().toUpperCase()) return false;
  const q = filters.q.trim().toLowerCase();
  if (q) {
    const text = [view.symbol, view.source, view.timeframe, view.notes, view.channel, view.market, view.side]
      .filter(Boolean)
      .join(' ')
      .toLowerCase();
    if (!text.includes(q)) return false;
  }
  return true;
}
