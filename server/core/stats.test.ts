/** Statistics of a hand-built log, every expected figure worked out by hand below. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StatsFigures, StatsGroup } from '../../shared/stats.js';
import { EventLog } from '../../test/helpers/event-log.js';
import fc from 'fast-check';
import type { SignalCreatedEvent, SignalUpdatedEvent, SignalView } from '../../shared/events.js';
import { applyUpdate, initialView, rejectUpdate } from '../../shared/signal-state.js';
import type { StatsReport } from '../../shared/stats.js';
import { computeStats, rMultiple, StatsFold } from './stats.js';

/*
 * The log (seq: event). Channels alpha and beta; R = reward / risk with the original stop.
 *  1 S1 created  alpha crypto BTCUSDT buy  entry 100 SL 90 TP 110,120 source ana  2026-01-05
 *  2 S1 tp_hit 1
 *  3 S1 tp_hit 2 → closed at TP2 120: R = (120−100)/(100−90) = 20/10 = 2      win
 *  4 S2 created  alpha crypto ETHUSDT buy  entry 200 SL 190 TP 220   source ana  2026-01-10
 *  5 S2 sl_hit (no price → exit 190): R = (190−200)/(200−190) = −10/10 = −1   loss
 *  6 S3 created  alpha forex EURUSD  sell entry 1.1 SL 1.12 TP 1.08,1.06 source bob 2026-01-20
 *  7 S3 tp_hit 1
 *  8 S3 breakeven
 *  9 S3 sl_hit (no price, at breakeven → exit 1.1): R = (1.1−1.1)/(1.12−1.1) = 0   win (TP1 first)
 * 10 S9 created  alpha crypto ETHUSDT buy  entry 200 SL 180 TP 240   no source  2026-01-28
 * 11 S9 closed without a price: closed, no R, neither win nor loss
 * 12 S1 note (after its close: must not move S1's equity point)              2026-02-01
 * 13 S4 created  alpha forex EURUSD  sell entry 1.5 SL 1.75 TP 1.25  source bob  2026-02-02
 * 14 S4 closed by hand at 1.625: R = (1.5−1.625)/(1.75−1.5) = −0.125/0.25 = −0.5  loss (no TP, R<0)
 * 15 S5 created  beta stocks AAPL    buy  entry 50 SL 45 TP 60      no source   2026-02-10
 * 16 S5 closed by hand at 52: R = (52−50)/(50−45) = 2/5 = 0.4   neither (no TP, R ≥ 0)
 * 17 S6 created  beta stocks AAPL    buy  entry 50 SL 40 TP 70      no source   2026-02-14
 * 18 S6 cancelled: cancelled, no R, neither
 * 19 S7 created  beta crypto BTCUSDT sell entry 300 SL 330 TP 270,240 source ana 2026-02-20
 * 20 S7 tp_hit 1: still open (TP2 left), already a win, no R yet
 * 21 S8 created  beta crypto BTCUSDT buy  entry 100 SL 80 TP 140    no source   2026-02-25
 * 22 S8 note: open, neither
 */
function handBuiltLog(): EventLog {
  const log = new EventLog();
  const day = (d: string) => `2026-${d}T12:00:00.000Z`;
  const s1 = log.create(
    'alpha',
    {
      symbol: 'BTCUSDT',
      market: 'crypto',
      side: 'buy',
      entry: 100,
      stopLoss: 90,
      takeProfits: [110, 120],
      source: 'ana',
    },
    day('01-05'),
  );
  log.update(s1, { type: 'tp_hit', level: 1 }, day('01-06'));
  log.update(s1, { type: 'tp_hit', level: 2 }, day('01-07'));
  const s2 = log.create(
    'alpha',
    { symbol: 'ETHUSDT', market: 'crypto', side: 'buy', entry: 200, stopLoss: 190, takeProfits: [220], source: 'ana' },
    day('01-10'),
  );
  log.update(s2, { type: 'sl_hit' }, day('01-11'));
  const s3 = log.create(
    'alpha',
    {
      symbol: 'EURUSD',
      market: 'forex',
      side: 'sell',
      entry: 1.1,
      stopLoss: 1.12,
      takeProfits: [1.08, 1.06],
      source: 'bob',
    },
    day('01-20'),
  );
  log.update(s3, { type: 'tp_hit', level: 1 }, day('01-21'));
  log.update(s3, { type: 'breakeven' }, day('01-22'));
  log.update(s3, { type: 'sl_hit' }, day('01-23'));
  const s9 = log.create(
    'alpha',
    { symbol: 'ETHUSDT', market: 'crypto', side: 'buy', entry: 200, stopLoss: 180, takeProfits: [240] },
    day('01-28'),
  );
  log.update(s9, { type: 'closed' }, day('01-30'));
  log.update(s1, { type: 'note', notes: 'well done' }, day('02-01'));
  const s4 = log.create(
    'alpha',
    { symbol: 'EURUSD', market: 'forex', side: 'sell', entry: 1.5, stopLoss: 1.75, takeProfits: [1.25], source: 'bob' },
    day('02-02'),
  );
  log.update(s4, { type: 'closed', price: 1.625 }, day('02-03'));
  const s5 = log.create(
    'beta',
    { symbol: 'AAPL', market: 'stocks', side: 'buy', entry: 50, stopLoss: 45, takeProfits: [60] },
    day('02-10'),
  );
  log.update(s5, { type: 'closed', price: 52 }, day('02-12'));
  const s6 = log.create(
    'beta',
    { symbol: 'AAPL', market: 'stocks', side: 'buy', entry: 50, stopLoss: 40, takeProfits: [70] },
    day('02-14'),
  );
  log.update(s6, { type: 'cancelled' }, day('02-15'));
  const s7 = log.create(
    'beta',
    {
      symbol: 'BTCUSDT',
      market: 'crypto',
      side: 'sell',
      entry: 300,
      stopLoss: 330,
      takeProfits: [270, 240],
      source: 'ana',
    },
    day('02-20'),
  );
  log.update(s7, { type: 'tp_hit', level: 1 }, day('02-21'));
  const s8 = log.create(
    'beta',
    { symbol: 'BTCUSDT', market: 'crypto', side: 'buy', entry: 100, stopLoss: 80, takeProfits: [140] },
    day('02-25'),
  );
  log.update(s8, { type: 'note', notes: 'patience' }, day('02-26'));
  return log;
}

const EPSILON = 1e-9;

/** Compares figures exactly, except R sums and averages within floating-point rounding. */
function assertFigures(
  actual: (StatsFigures & { key?: string }) | undefined,
  expected: StatsFigures,
  label: string,
): void {
  assert.ok(actual, `${label}: missing`);
  const { totalR, averageR, winRate, key: _key, ...counts } = actual;
  const { totalR: eTotal, averageR: eAverage, winRate: eRate, ...eCounts } = expected;
  assert.deepEqual(counts, eCounts, `${label}: counts`);
  const near = (a: number | null, b: number | null, what: string) => {
    if (b === null) return assert.equal(a, null, `${label}: ${what}`);
    assert.ok(a !== null && Math.abs(a - b) < EPSILON, `${label}: ${what} is ${a}, expected ${b}`);
  };
  near(totalR, eTotal, 'totalR');
  near(averageR, eAverage, 'averageR');
  near(winRate, eRate, 'winRate');
}

const group = (groups: StatsGroup[], key: string) => groups.find((g) => g.key === key);
const figures = (f: Partial<StatsFigures> & Pick<StatsFigures, 'signals'>): StatsFigures => ({
  open: 0,
  closed: 0,
  cancelled: 0,
  wins: 0,
  losses: 0,
  winRate: null,
  rCount: 0,
  totalR: 0,
  averageR: null,
  ...f,
});

describe('statistics from the log', () => {
  const { events } = handBuiltLog();
  const report = computeStats(events);

  test('totals', () => {
    // open S7 S8 = 2; closed S1 S2 S3 S4 S5 S9 = 6; cancelled S6 = 1; 2 + 6 + 1 = 9 signals.
    // wins S1 S3 S7 = 3, losses S2 S4 = 2 → win rate 3 / (3 + 2) = 0.6.
    // R: S1 2, S2 −1, S3 0, S4 −0.5, S5 0.4 → 5 R values, total 0.9, average 0.9 / 5 = 0.18.
    assertFigures(
      report.totals,
      figures({
        signals: 9,
        open: 2,
        closed: 6,
        cancelled: 1,
        wins: 3,
        losses: 2,
        winRate: 0.6,
        rCount: 5,
        totalR: 0.9,
        averageR: 0.18,
      }),
      'totals',
    );
    assert.equal(report.upToSeq, 22);
  });

  test('by channel', () => {
    assert.deepEqual(
      report.byChannel.map((g) => g.key),
      ['alpha', 'beta'],
    );
    // alpha: S1 S2 S3 S4 S9, all closed; wins S1 S3, losses S2 S4 → 2/4 = 0.5;
    // R 2 − 1 + 0 − 0.5 = 0.5 over 4 → 0.125.
    assertFigures(
      group(report.byChannel, 'alpha'),
      figures({ signals: 5, closed: 5, wins: 2, losses: 2, winRate: 0.5, rCount: 4, totalR: 0.5, averageR: 0.125 }),
      'alpha',
    );
    // beta: S5 closed, S6 cancelled, S7 S8 open; win S7 only → 1/1 = 1; R 0.4 (S5) over 1.
    assertFigures(
      group(report.byChannel, 'beta'),
      figures({
        signals: 4,
        open: 2,
        closed: 1,
        cancelled: 1,
        wins: 1,
        winRate: 1,
        rCount: 1,
        totalR: 0.4,
        averageR: 0.4,
      }),
      'beta',
    );
  });

  test('by market, symbol and source', () => {
    // crypto: S1 S2 S7 S8 S9; open S7 S8; wins S1 S7, loss S2 → 2/3; R 2 − 1 = 1 over 2 → 0.5.
    assertFigures(
      group(report.byMarket, 'crypto'),
      figures({
        signals: 5,
        open: 2,
        closed: 3,
        wins: 2,
        losses: 1,
        winRate: 2 / 3,
        rCount: 2,
        totalR: 1,
        averageR: 0.5,
      }),
      'crypto',
    );
    // forex: S3 (win, R 0) and S4 (loss, R −0.5) → 1/2; total −0.5, average −0.25.
    assertFigures(
      group(report.byMarket, 'forex'),
      figures({ signals: 2, closed: 2, wins: 1, losses: 1, winRate: 0.5, rCount: 2, totalR: -0.5, averageR: -0.25 }),
      'forex',
    );
    // stocks: S5 (neither, R 0.4) and S6 (cancelled): nothing decided → win rate null.
    assertFigures(
      group(report.byMarket, 'stocks'),
      figures({ signals: 2, closed: 1, cancelled: 1, rCount: 1, totalR: 0.4, averageR: 0.4 }),
      'stocks',
    );
    assert.deepEqual(
      report.bySymbol.map((g) => g.key),
      ['AAPL', 'BTCUSDT', 'ETHUSDT', 'EURUSD'],
    );
    // ETHUSDT: S2 (loss, R −1) and S9 (closed, no price) → 0/1 = 0, total −1 over 1.
    assertFigures(
      group(report.bySymbol, 'ETHUSDT'),
      figures({ signals: 2, closed: 2, losses: 1, winRate: 0, rCount: 1, totalR: -1, averageR: -1 }),
      'ETHUSDT',
    );
    // BTCUSDT: S1 (win, R 2), S7 (open win), S8 (open) → 2/2 = 1; total 2 over 1.
    assertFigures(
      group(report.bySymbol, 'BTCUSDT'),
      figures({ signals: 3, open: 2, closed: 1, wins: 2, winRate: 1, rCount: 1, totalR: 2, averageR: 2 }),
      'BTCUSDT',
    );
    assert.deepEqual(
      report.bySource.map((g) => g.key),
      ['', 'ana', 'bob'],
    );
    // ana: S1 (win, 2), S2 (loss, −1), S7 (open win) → 2/3; total 1 over 2 → 0.5.
    assertFigures(
      group(report.bySource, 'ana'),
      figures({
        signals: 3,
        open: 1,
        closed: 2,
        wins: 2,
        losses: 1,
        winRate: 2 / 3,
        rCount: 2,
        totalR: 1,
        averageR: 0.5,
      }),
      'ana',
    );
    // no source: S5 (0.4), S6 (cancelled), S8 (open), S9 (closed, no price) → none decided.
    assertFigures(
      group(report.bySource, ''),
      figures({ signals: 4, open: 1, closed: 2, cancelled: 1, rCount: 1, totalR: 0.4, averageR: 0.4 }),
      'no source',
    );
  });

  test('wins and losses by month, by the month a signal was published', () => {
    assert.deepEqual(
      report.byMonth.map((g) => g.key),
      ['2026-01', '2026-02'],
    );
    // January: S1 S2 S3 S9; wins S1 S3, loss S2 → 2/3; R 2 − 1 + 0 = 1 over 3.
    assertFigures(
      group(report.byMonth, '2026-01'),
      figures({
        signals: 4,
        closed: 4,
        wins: 2,
        losses: 1,
        winRate: 2 / 3,
        rCount: 3,
        totalR: 1,
        averageR: 1 / 3,
      }),
      '2026-01',
    );
    // February: S4 S5 S6 S7 S8; win S7, loss S4 → 1/2; R −0.5 + 0.4 = −0.1 over 2 → −0.05.
    assertFigures(
      group(report.byMonth, '2026-02'),
      figures({
        signals: 5,
        open: 2,
        closed: 2,
        cancelled: 1,
        wins: 1,
        losses: 1,
        winRate: 0.5,
        rCount: 2,
        totalR: -0.1,
        averageR: -0.05,
      }),
      '2026-02',
    );
  });

  test('the equity curve adds each R at the event that realised it', () => {
    // Closing events: seq 3 (S1, +2 → 2), 5 (S2, −1 → 1), 9 (S3, 0 → 1), 14 (S4, −0.5 → 0.5),
    // 16 (S5, +0.4 → 0.9). S1's later note (seq 12) does not move its point.
    assert.deepEqual(
      report.equity.map((p) => [p.seq, p.symbol, p.at.slice(0, 10)]),
      [
        [3, 'BTCUSDT', '2026-01-07'],
        [5, 'ETHUSDT', '2026-01-11'],
        [9, 'EURUSD', '2026-01-23'],
        [14, 'EURUSD', '2026-02-03'],
        [16, 'AAPL', '2026-02-12'],
      ],
    );
    const expected = [2, 1, 1, 0.5, 0.9];
    report.equity.forEach((p, i) => assert.ok(Math.abs(p.cumulativeR - (expected[i] ?? NaN)) < EPSILON));
  });

  test('filters narrow the signals counted', () => {
    // channel beta alone is exactly the beta breakdown above.
    const beta = computeStats(events, { channel: 'beta' });
    const { key: _key, ...betaGroup } = group(report.byChannel, 'beta') ?? { key: '' };
    assert.deepEqual(beta.totals, betaGroup);
    assert.equal(beta.totals.signals, 4);
    assert.deepEqual(
      beta.equity.map((p) => p.seq),
      [16],
    );
    // An entitlement scope narrows the same way, and a filter cannot reach outside it.
    const fold = new StatsFold();
    for (const event of events) fold.add(event);
    assert.deepEqual(fold.report({}, ['beta']), beta);
    assert.equal(fold.report({ channel: 'alpha' }, ['beta']).totals.signals, 0);
    assert.equal(fold.report({}, []).totals.signals, 0);
    // Symbols match whatever the case: btcusdt → S1 S7 S8.
    assert.equal(computeStats(events, { symbol: 'btcusdt' }).totals.signals, 3);
    assert.equal(computeStats(events, { source: 'bob' }).totals.signals, 2);
    assert.equal(computeStats(events, { market: 'stocks', channel: 'alpha' }).totals.signals, 0);
    // from inclusive, to exclusive, on the publish time: Feb 2 (S4), Feb 10 (S5), Feb 14 (S6).
    const window = computeStats(events, { from: '2026-02-01', to: '2026-02-15' });
    assert.equal(window.totals.signals, 3);
    assert.equal(window.totals.losses, 1);
    assert.equal(window.totals.cancelled, 1);
    assert.equal(computeStats(events, { from: '2026-02-02T12:00:00Z', to: '2026-02-10T12:00:00Z' }).totals.signals, 1);
  });

  test('a subscriber-filtered feed (gaps in seq) folds the same as the whole log filtered', () => {
    const alphaOnly = events.filter((e) => e.channel === 'alpha');
    const fromFeed = computeStats(alphaOnly);
    const fromAll = computeStats(events, { channel: 'alpha' });
    assert.deepEqual({ ...fromFeed, upToSeq: 0 }, { ...fromAll, upToSeq: 0 });
  });

  test('R multiple for a sell and a buy, and none without an exit price', () => {
    // sell: (entry − exit) / (stop − entry) = (300 − 240) / (330 − 300) = 2
    assert.equal(rMultiple({ side: 'sell', entry: 300, stopLoss: 330, exitPrice: 240, status: 'closed' }), 2);
    // buy stopped out below the stop (slippage): (85 − 100) / (100 − 90) = −1.5
    assert.equal(rMultiple({ side: 'buy', entry: 100, stopLoss: 90, exitPrice: 85, status: 'sl_hit' }), -1.5);
    assert.equal(rMultiple({ side: 'buy', entry: 100, stopLoss: 90, status: 'closed' }), null);
    assert.equal(rMultiple({ side: 'buy', entry: 100, stopLoss: 90, exitPrice: 120, status: 'tp_hit' }), null);
  });

  test('a cancel at a mark price counts like a close by hand at it: a losing call cannot leave the win rate', () => {
    const log = new EventLog();
    const at = (d: string) => `2026-03-${d}T12:00:00.000Z`;
    const data = {
      symbol: 'SOLUSDT',
      market: 'crypto',
      side: 'buy',
      entry: 100,
      stopLoss: 90,
      takeProfits: [120],
    } as const;
    const loser = log.create('gamma', { ...data, takeProfits: [120] }, at('01'));
    log.update(loser, { type: 'cancelled', price: 95 }, at('02')); // R = (95 − 100) / 10 = −0.5
    const unfilled = log.create('gamma', { ...data, takeProfits: [120] }, at('03'));
    log.update(unfilled, { type: 'cancelled' }, at('03')); // within the grace period: never entered
    const report = computeStats(log.events);
    assert.equal(report.totals.cancelled, 2);
    assert.equal(report.totals.losses, 1);
    assert.equal(report.totals.winRate, 0);
    assert.equal(report.totals.rCount, 1);
    assert.equal(report.totals.totalR, -0.5);
    assert.deepEqual(
      report.equity.map((p) => [p.signalId, p.r]),
      [[loser, -0.5]],
    );
  });
});

describe('reports over whole channels, kept up to date per event', () => {
  test('equal a walk over every signal, for any log, scope and order of updates', () => {
    const channels = ['a', 'b', 'c'];
    const update = fc.oneof(
      fc.record({ type: fc.constant('tp_hit' as const), level: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ type: fc.constant('sl_hit' as const) }),
      fc.record({ type: fc.constant('breakeven' as const) }),
      fc.record({ type: fc.constant('closed' as const), price: fc.integer({ min: 80, max: 130 }) }),
      fc.record({ type: fc.constant('cancelled' as const), price: fc.integer({ min: 80, max: 130 }) }),
      fc.record({ type: fc.constant('note' as const), notes: fc.constant('n') }),
    );
    const step = fc.oneof(
      fc.record({ create: fc.constantFrom(...channels), source: fc.constantFrom('ana', 'bob', undefined) }),
      fc.record({ target: fc.nat(), update }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.subarray(channels), (steps, scope) => {
        const log = new EventLog();
        const signals: string[] = [];
        const views = new Map<string, SignalView>();
        steps.forEach((s, i) => {
          const at = new Date(Date.UTC(2026, 0, 1 + i)).toISOString();
          if ('create' in s) {
            const id = log.create(
              s.create,
              {
                symbol: i % 2 ? 'BTCUSDT' : 'EURUSD',
                market: i % 2 ? 'crypto' : 'forex',
                side: 'buy',
                entry: 100,
                stopLoss: 90,
                takeProfits: [110, 120, 130],
                ...(s.source ? { source: s.source } : {}),
              },
              at,
            );
            signals.push(id);
            views.set(id, initialView(log.events.at(-1) as SignalCreatedEvent));
            return;
          }
          const id = signals[s.target % Math.max(1, signals.length)];
          const view = id && views.get(id);
          if (!view || rejectUpdate(view, s.update, Date.parse(view.createdAt)) !== null) return;
          views.set(id, applyUpdate(view, log.update(id, s.update, at) as SignalUpdatedEvent));
        });
        const fold = new StatsFold();
        for (const event of log.events) fold.add(event);
        const kept = fold.report({}, scope);
        // A filter every signal passes makes the report walk each signal instead.
        const walked = fold.report({ from: '2000-01-01' }, scope);
        const round = (report: StatsReport) =>
          JSON.parse(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(9)) : v)));
        assert.deepEqual(round(kept), round(walked));
      }),
      { numRuns: 300 },
    );
  });
});
