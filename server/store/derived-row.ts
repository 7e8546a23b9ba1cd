/**
 * How a signal's state (a fold over its events) is stored as a row of the derived `signals`
 * table: written by every store, and rebuilt from the log by `verify` to prove the table
 * says what the events say.
 */
import type { SignalView } from '../../shared/events.js';
import type { DerivedSignalRow } from './store.js';

/** What substring search looks in: the signal's text fields, lower-cased. */
export function searchText(view: SignalView): string {
  return [view.symbol, view.source, view.timeframe, view.notes, view.channel, view.market, view.side]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

export function derivedColumns(view: SignalView): DerivedSignalRow['columns'] {
  return {
    id: view.id,
    seq: view.seq,
    lastSeq: view.lastSeq,
    channel: view.channel,
    symbol: view.symbol,
    market: view.market,
    side: view.side,
    status: view.status,
    search: searchText(view),
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
  };
}
