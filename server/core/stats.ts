/**
 * Track-record statistics, folded from the immutable log and nothing else. The fold replays
 * each signal's events through the same reducer the server appends with
 * (`shared/signal-state.ts`), so the figures are exactly what the published events say.
 *
 * The rules, in one place:
 * - **Win**: at least one take-profit was hit before any stop-loss hit. A signal is a win
 *   from its first TP hit on, whatever follows (a later stop at breakeven, a manual close).
 * - **Loss**: the stop-loss was hit before any take-profit (also a stop at breakeven, R 0),
 *   or the signal was closed by hand before any take-profit at a price that loses (R < 0).
 *   A manual close can make a call a loss, never a win, so closing a losing call early
 *   cannot hide it.
 * - **Neither**: still open without a TP hit; closed by hand before any TP at or above
 *   break-even, or without a price; cancelled (never entered). These are outside the win rate.
 * - **Counts**: `open` = status open or tp_hit (partly taken, still running); `closed` =
 *   sl_hit or closed; `cancelled` = cancelled.
 * - **R multiple** (closed with an exit price only): reward over the risk taken at entry,
 *   buy (exit − entry) / (entry − stopLoss), sell (entry − exit) / (stopLoss − entry), with
 *   the original stop even when it was later moved to breakeven. Partial take-profits are
 *   not scaled out: R is that of the final exit price alone (TP1 hit then stopped at
 *   breakeven = a win with R 0).
 * - **Periods**: a signal belongs to the month (UTC) it was published; `from`/`to` bound that
 *   time. The equity curve is ordered by the closing event, when the R was realised.
 */
import type { SignalCreatedEvent, SignalView, StoredEvent } from '../../shared/events.js';
import { applyUpdate, initialView, TERMINAL_STATUSES } from '../../shared/signal-state.js';
import type { EquityPoint, StatsFigures, StatsGroup, StatsQuery, StatsReport } from '../../shared/stats.js';

export type Outcome = 'win' | 'loss' | null;

/** R multiple of a closed signal; null while it has no exit price. */
export function rMultiple(
  view: Pick<SignalView, 'side' | 'entry' | 'stopLoss' | 'exitPrice' | 'status'>,
): number | null {
  if (view.exitPrice === undefined || (view.status !== 'sl_hit' && view.status !== 'closed')) return null;
  const direction = view.side === 'buy' ? 1 : -1;
  const risk = direction * (view.entry - view.stopLoss);
  if (!(risk > 0)) return null;
  return (direction * (view.exitPrice - view.entry)) / risk;
}

/** Win, loss or neither, by the rules above. */
export function outcomeOf(view: SignalView): Outcome {
  if (view.tpHit > 0) return 'win';
  if (view.status === 'sl_hit') return 'loss';
  if (view.status === 'closed') {
    const r = rMultiple(view);
    return r !== null && r < 0 ? 'loss' : null;
  }
  return null;
}

interface Tracked {
  view: SignalView;
  /** The event that ended the position (first terminal status), once there is one. */
  closedBy?: { seq: number; at: string };
  // Derived once per event rather than on every report.
  outcome: Outcome;
  r: number | null;
  publishedMs: number;
  month: string;
  symbolKey: string;
  sourceKey: string;
  /** `sourceKey` lowercased, for the case-insensitive source filter. */
  sourceMatch: string;
}

function track(view: SignalView): Tracked {
  const sourceKey = view.source ?? '';
  return {
    view,
    outcome: outcomeOf(view),
    r: rMultiple(view),
    publishedMs: Date.parse(view.createdAt),
    month: new Date(view.createdAt).toISOString().slice(0, 7),
    symbolKey: view.symbol.toUpperCase(),
    sourceKey,
    sourceMatch: sourceKey.toLowerCase(),
  };
}

/** An update changes the state and outcome; publication time, symbol and source stay. */
function retrack(tracked: Tracked, view: SignalView, closedBy: Tracked['closedBy']): Tracked {
  return { ...tracked, view, closedBy, outcome: outcomeOf(view), r: rMultiple(view) };
}

class Accumulator {
  private readonly figures: Omit<StatsFigures, 'winRate' | 'averageR'> = {
    signals: 0,
    open: 0,
    closed: 0,
    cancelled: 0,
    wins: 0,
    losses: 0,
    rCount: 0,
    totalR: 0,
  };

  add(view: SignalView, outcome: Outcome, r: number | null): void {
    const f = this.figures;
    f.signals++;
    if (view.status === 'cancelled') f.cancelled++;
    else if (TERMINAL_STATUSES.has(view.status)) f.closed++;
    else f.open++;
    if (outcome === 'win') f.wins++;
    if (outcome === 'loss') f.losses++;
    if (r !== null) {
      f.rCount++;
      f.totalR += r;
    }
  }

  result(): StatsFigures {
    const f = this.figures;
    const decided = f.wins + f.losses;
    return {
      ...f,
      winRate: decided > 0 ? f.wins / decided : null,
      averageR: f.rCount > 0 ? f.totalR / f.rCount : null,
    };
  }
}

class Breakdown {
  private readonly groups = new Map<string, Accumulator>();

  add(key: string, view: SignalView, outcome: Outcome, r: number | null): void {
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = new Accumulator()));
    group.add(view, outcome, r);
  }

  result(): StatsGroup[] {
    return [...this.groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, acc]) => ({ key, ...acc.result() }));
  }
}

/** Which signals to count; `from` (inclusive) and `to` (exclusive) bound their publish time. */
export type StatsFilter = StatsQuery;

/** `filter` prepared once per report. */
function matcher(filter: StatsFilter): (tracked: Tracked) => boolean {
  const symbol = filter.symbol?.toUpperCase();
  const source = filter.source?.toLowerCase();
  const from = filter.from === undefined ? -Infinity : Date.parse(filter.from);
  const to = filter.to === undefined ? Infinity : Date.parse(filter.to);
  return ({ view, symbolKey, sourceMatch, publishedMs }) =>
    (filter.channel === undefined || view.channel === filter.channel) &&
    (filter.market === undefined || view.market === filter.market) &&
    (symbol === undefined || symbolKey === symbol) &&
    (source === undefined || sourceMatch === source) &&
    publishedMs >= from &&
    publishedMs < to;
}

/**
 * Folds events, fed in ascending seq (gaps allowed, e.g. a subscriber's channels only), into
 * the statistics. An update for a signal whose creation was not fed is ignored. Adding the
 * same events in the same order always gives the same report.
 */
export class StatsFold {
  private readonly signals = new Map<string, Tracked>();
  private upToSeq = 0;

  add(event: StoredEvent): void {
    this.upToSeq = Math.max(this.upToSeq, event.seq);
    if (event.type === 'signal.created') {
      this.signals.set(event.signalId, track(initialView(event as SignalCreatedEvent)));
      return;
    }
    const tracked = this.signals.get(event.signalId);
    if (!tracked) return;
    const before = tracked.view;
    const after = applyUpdate(before, event);
    const closes = !TERMINAL_STATUSES.has(before.status) && TERMINAL_STATUSES.has(after.status);
    this.signals.set(
      event.signalId,
      retrack(tracked, after, closes ? { seq: event.seq, at: event.createdAt } : tracked.closedBy),
    );
  }

  /** The figures of the signals in `scope` (their channels) that pass `filter`. */
  report(filter: StatsFilter = {}, scope: 'all' | readonly string[] = 'all'): StatsReport {
    const totals = new Accumulator();
    const by = {
      channel: new Breakdown(),
      market: new Breakdown(),
      symbol: new Breakdown(),
      source: new Breakdown(),
      month: new Breakdown(),
    };
    const closes: Array<Omit<EquityPoint, 'cumulativeR'>> = [];
    const inScope = scope === 'all' ? null : new Set(scope);
    const matches = matcher(filter);
    for (const tracked of this.signals.values()) {
      const { view, closedBy, outcome, r } = tracked;
      if (inScope && !inScope.has(view.channel)) continue;
      if (!matches(tracked)) continue;
      totals.add(view, outcome, r);
      by.channel.add(view.channel, view, outcome, r);
      by.market.add(view.market, view, outcome, r);
      by.symbol.add(tracked.symbolKey, view, outcome, r);
      by.source.add(tracked.sourceKey, view, outcome, r);
      by.month.add(tracked.month, view, outcome, r);
      if (r !== null && closedBy) {
        closes.push({
          seq: closedBy.seq,
          at: closedBy.at,
          signalId: view.id,
          channel: view.channel,
          symbol: view.symbol,
          r,
        });
      }
    }
    closes.sort((a, b) => a.seq - b.seq);
    let cumulativeR = 0;
    const equity = closes.map((point) => ({ ...point, cumulativeR: (cumulativeR += point.r) }));
    return {
      upToSeq: this.upToSeq,
      totals: totals.result(),
      byChannel: by.channel.result(),
      byMarket: by.market.result(),
      bySymbol: by.symbol.result(),
      bySource: by.source.result(),
      byMonth: by.month.result(),
      equity,
    };
  }
}

/** The statistics of `events` (ascending seq) under `filter`. */
export function computeStats(events: Iterable<StoredEvent>, filter: StatsFilter = {}): StatsReport {
  const fold = new StatsFold();
  for (const event of events) fold.add(event);
  return fold.report(filter);
}
