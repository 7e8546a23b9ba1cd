/**
 * Proof that the derived `signals` table says what the log says. The table is what history,
 * search and the API serve from, and the hash chain does not cover it: a changed row would
 * otherwise be served, and pass `verify`, while every event is intact. This rebuilds each
 * signal's state from its events with the same reducer the server appends with and compares
 * it, column by column, with the stored row — in pages, in constant memory.
 */
import { canonicalJson } from '../../shared/canonical-json.js';
import type { SignalCreatedEvent, SignalView, StoredEvent } from '../../shared/events.js';
import { applyUpdate, initialView } from '../../shared/signal-state.js';
import { derivedColumns } from '../store/derived-row.js';
import type { DerivedSignalRow, Store } from '../store/store.js';
import type { ChainProblem } from './hash-chain.js';

const PAGE = 500;

/** Each signal's state after its events up to `bound(signalId)`. */
function fold(events: readonly StoredEvent[], bound: (signalId: string) => number): Map<string, SignalView> {
  const views = new Map<string, SignalView>();
  for (const event of events) {
    if (event.seq > bound(event.signalId)) continue;
    if (event.type === 'signal.created') views.set(event.signalId, initialView(event as SignalCreatedEvent));
    else {
      const before = views.get(event.signalId);
      if (before) views.set(event.signalId, applyUpdate(before, event));
    }
  }
  return views;
}

/** The first column (or the view) in which the stored row differs from the one derived from the log. */
function difference(row: DerivedSignalRow, derived: SignalView): string | null {
  const expected = derivedColumns(derived);
  for (const key of Object.keys(expected) as Array<keyof typeof expected>) {
    if (row.columns[key] !== expected[key]) {
      return `its ${key} is ${JSON.stringify(row.columns[key])} in the signals table, ${JSON.stringify(expected[key])} by its events`;
    }
  }
  if (canonicalJson(row.view) !== canonicalJson(derived)) {
    return `its stored state ${canonicalJson(row.view)} is not the state its events give, ${canonicalJson(derived)}`;
  }
  return null;
}

/**
 * The first row of the derived table that its events do not give, or a row too many or
 * too few; null when the table is exactly the fold of the log up to `upTo` (the head when
 * checking began). `createdInLog` is the number of `signal.created` events up to there.
 *
 * The server may go on appending meanwhile: rows of signals created after `upTo` are not
 * counted, and a row updated since is compared with its events up to its own `lastSeq`
 * (it was written in the same transaction as the event at `lastSeq`, and an event after it
 * was not yet committed when the row was read).
 */
export async function derivedStateProblem(
  store: Store,
  createdInLog: number,
  upTo: number,
): Promise<ChainProblem | null> {
  let after = 0;
  let rows = 0;
  for (;;) {
    const page = (await store.derivedSignals(after, PAGE)).filter((row) => row.columns.seq <= upTo);
    if (page.length === 0) break;
    const bounds = new Map(page.map((row) => [row.columns.id, Math.max(upTo, row.columns.lastSeq)]));
    const events = await store.eventsOfSignals(page.map((row) => row.columns.id));
    const views = fold(events, (id) => bounds.get(id) ?? upTo);
    for (const row of page) {
      rows++;
      const { id, seq, channel } = row.columns;
      const derived = views.get(id);
      const reason = derived
        ? difference(row, derived)
        : 'it is in the signals table, but no signal.created event of the log made it';
      if (reason)
        return { seq, id, channel, reason: `the derived state of signal ${id} is not its events': ${reason}` };
    }
    after = page[page.length - 1]!.columns.seq;
  }
  if (rows !== createdInLog) {
    return {
      seq: 0,
      id: '?',
      channel: '?',
      reason: `the signals table holds ${rows} signals up to seq ${upTo}, but the log created ${createdInLog}`,
    };
  }
  return null;
}
