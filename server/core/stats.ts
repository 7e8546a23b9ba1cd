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
 *   break-even, or without a price; cancelled without a price (within the grace period after
 *   publishing: never entered). These are outside the win rate.
 * - **Cancelled at a mark**: a cancel later than that carries the mark price and counts like
 *   a close by hand at it (a loss when R < 0), so cancelling cannot take a loser out.
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

/** Statuses in which an exit price realises an R multiple. */
const EXIT_STATUSES: ReadonlySet<SignalView['status']> = new Set(['sl_hit', 'closed', 'cancelled']);

/** R multiple of a closed signal; null while it has no exit price. */
export function rMultiple(
  view: Pick<SignalView, 'side' | 'entry' | 'stopLoss' | 'exitPrice' | 'status'>,
): number | null {
  if (view.exitPrice === undefined || !EXIT_STATUSES.has(view.status)) return null;
  const direction = view.side === 'buy' ? 1 : -1;
  const risk = direction * (view.entry - view.stopLoss);
  if (!(risk > 0)) return null;
  const r = (direction * (view.exitPrice - view.entry)) / risk;
  return Number.isFinite(r) ? r : null;
}

/** Win, loss or neither, by the rules above. */
export function outcomeOf(view: SignalView): Outcome {
  if (view.tpHit > 0) return 'win';
  if (view.status === 'sl_hit') return 'loss';
  if (view.status === 'closed' || view.status === 'cancelled') {
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

type Bucket = 'open' | 'closed' | 'cancelled';

function bucketOf(view: SignalView): Bucket {
  if (view.status === 'cancelled') return 'cancelled';
  return TERMINAL_STATUSES.has(view.status) ? 'closed' : 'open';
}

/** Whether two states of a signal count the same in every figure. */
function sameFigures(a: Tracked, b: Tracked): boolean {
  return bucketOf(a.view) === bucketOf(b.view) && a.outcome === b.outcome && a.r === b.r;
}

type Counts = Omit<StatsFigures, 'winRate' | 'averageR'>;

class Accumulator {
  private readonly figures: Counts = {
    signals: 0,
    open: 0,
    closed: 0,
    cancelled: 0,
    wins: 0,
    losses: 0,
    rCount: 0,
    totalR: 0,
  };

  /** Counts `tracked` in (`sign` 1) or out (-1) again. */
  add({ view, outcome, r }: Tracked, sign: 1 | -1 = 1): void {
    const f = this.figures;
    f.signals += sign;
    f[bucketOf(view)] += sign;
    if (outcome === 'win') f.wins += sign;
    if (outcome === 'loss') f.losses += sign;
    if (r !== null) {
      f.rCount += sign;
      f.totalR += sign * r;
    }
  }

  merge(other: Accumulator): void {
    for (const key of Object.keys(this.figures) as Array<keyof Counts>) this.figures[key] += other.figures[key];
  }

  get empty(): boolean {
    return this.figures.signals === 0;
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

  add(key: string, tracked: Tracked, sign: 1 | -1 = 1): void {
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = new Accumulator()));
    group.add(tracked, sign);
    if (group.empty) this.groups.delete(key);
  }

  merge(other: Breakdown): void {
    for (const [key, acc] of other.groups) {
      let group = this.groups.get(key);
      if (!group) this.groups.set(key, (group = new Accumulator()));
      group.merge(acc);
    }
  }

  result(): StatsGroup[] {
    return [...this.groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, acc]) => ({ key, ...acc.result() }));
  }
}

type Close = Omit<EquityPoint, 'cumulativeR'>;

/** Totals, breakdowns and closes of a set of signals: what a report is made from. */
class Figures {
  readonly totals = new Accumulator();
  readonly market = new Breakdown();
  readonly symbol = new Breakdown();
  readonly source = new Breakdown();
  readonly month = new Breakdown();
  /** Closing points, ascending seq. */
  closes: Close[] = [];

  add(tracked: Tracked, sign: 1 | -1 = 1): void {
    this.totals.add(tracked, sign);
    this.market.add(tracked.view.market, tracked, sign);
    this.symbol.add(tracked.symbolKey, tracked, sign);
    this.source.add(tracked.sourceKey, tracked, sign);
    this.month.add(tracked.month, tracked, sign);
  }

  merge(other: Figures): void {
    this.totals.merge(other.totals);
    this.market.merge(other.market);
    this.symbol.merge(other.symbol);
    this.source.merge(other.source);
    this.month.merge(other.month);
  }
}

function closeOf(tracked: Tracked): Close | null {
  const { view, closedBy, r } = tracked;
  if (r === null || !closedBy) return null;
  return { seq: closedBy.seq, at: closedBy.at, signalId: view.id, channel: view.channel, symbol: view.symbol, r };
}

/** Merges lists each in ascending seq into one in ascending seq. */
function mergeCloses(lists: ReadonlyArray<readonly Close[]>): Close[] {
  const nonEmpty = lists.filter((list) => list.length > 0);
  if (nonEmpty.length <= 1) return [...(nonEmpty[0] ?? [])];
  return nonEmpty.flat().sort((a, b) => a.seq - b.seq);
}

/**
 * One channel's signals, and their figures kept up to date event by event: a report over
 * whole channels merges these instead of walking every signal again.
 */
class ChannelFold {
  readonly signals = new Map<string, Tracked>();
  readonly figures = new Figures();

  put(tracked: Tracked, previous: Tracked | undefined): void {
    this.signals.set(tracked.view.id, tracked);
    if (previous && sameFigures(previous, tracked)) return;
    if (previous) this.figures.add(previous, -1);
    this.figures.add(tracked);
    // A position closes once; its R is fixed from then on (only notes may follow).
    if (!previous?.closedBy && tracked.closedBy) {
      const close = closeOf(tracked);
      if (close) this.figures.closes.push(close);
    }
  }
}

/** Which signals to count; `from` (inclusive) and `to` (exclusive) bound their publish time. */
export type StatsFilter = StatsQuery;

/** `filter` prepared once per report, for the filters that need each signal looked at. */
function matcher(filter: StatsFilter): ((tracked: Tracked) => boolean) | null {
  const symbol = filter.symbol?.toUpperCase();
  const source = filter.source?.toLowerCase();
  const { market } = filter;
  if (symbol === undefined && source === undefined && market === undefined && !filter.from && !filter.to) return null;
  const from = filter.from === undefined ? -Infinity : Date.parse(filter.from);
  const to = filter.to === undefined ? Infinity : Date.parse(filter.to);
  return ({ view, symbolKey, sourceMatch, publishedMs }) =>
    (market === undefined || view.market === market) &&
    (symbol === undefined || symbolKey === symbol) &&
    (source === undefined || sourceMatch === source) &&
    publishedMs >= from &&
    publishedMs < to;
}

/**
 * Folds events, fed in ascending seq (gaps allowed, e.g. a subscriber's channels only), into
 * the statistics, one fold per channel. A report looks at the caller's channels only: over
 * whole channels it merges their running figures; with a filter on market, symbol, source
 * or time it walks those channels' signals. An update for a signal whose creation was not
 * fed is ignored. Adding the same events in the same order always gives the same report.
 */
export class StatsFold {
  private readonly channels = new Map<string, ChannelFold>();
  /** Which channel each signal belongs to, for its updates. */
  private readonly channelOf = new Map<string, ChannelFold>();
  private upToSeq = 0;

  add(event: StoredEvent): void {
    this.upToSeq = Math.max(this.upToSeq, event.seq);
    if (event.type === 'signal.created') {
      let fold = this.channels.get(event.channel);
      if (!fold) this.channels.set(event.channel, (fold = new ChannelFold()));
      this.channelOf.set(event.signalId, fold);
      fold.put(track(initialView(event as SignalCreatedEvent)), undefined);
      return;
    }
    const fold = this.channelOf.get(event.signalId);
    const tracked = fold?.signals.get(event.signalId);
    if (!fold || !tracked) return;
    const before = tracked.view;
    const after = applyUpdate(before, event);
    const closes = !TERMINAL_STATUSES.has(before.status) && TERMINAL_STATUSES.has(after.status);
    fold.put(retrack(tracked, after, closes ? { seq: event.seq, at: event.createdAt } : tracked.closedBy), tracked);
  }

  /** The figures of the signals in `scope` (their channels) that pass `filter`. */
  report(filter: StatsFilter = {}, scope: 'all' | readonly string[] = 'all'): StatsReport {
    // Entitlement first: only the caller's channels are looked at, whatever the log holds.
    const allowed = scope === 'all' ? null : new Set(scope);
    const channels = [...this.channels.entries()]
      .filter(([slug]) => (allowed === null || allowed.has(slug)) && (!filter.channel || slug === filter.channel))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const matches = matcher(filter);
    const perChannel = channels.map(([slug, fold]) => {
      if (!matches) return { slug, figures: fold.figures };
      const figures = new Figures();
      for (const tracked of fold.signals.values()) {
        if (!matches(tracked)) continue;
        figures.add(tracked);
        const close = closeOf(tracked);
        if (close) figures.closes.push(close);
      }
      figures.closes.sort((a, b) => a.seq - b.seq);
      return { slug, figures };
    });
    const all = new Figures();
    for (const { figures } of perChannel) all.merge(figures);
    let cumulativeR = 0;
    const equity = mergeCloses(perChannel.map(({ figures }) => figures.closes)).map((point) => ({
      ...point,
      cumulativeR: (cumulativeR += point.r),
    }));
    return {
      upToSeq: this.upToSeq,
      totals: all.totals.result(),
      byChannel: perChannel
        .filter(({ figures }) => !figures.totals.empty)
        .map(({ slug, figures }) => ({ key: slug, ...figures.totals.result() })),
      byMarket: all.market.result(),
      bySymbol: all.symbol.result(),
      bySource: all.source.result(),
      byMonth: all.month.result(),
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
