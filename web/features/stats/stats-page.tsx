/**
 * The track record: figures, equity curve and monthly wins and losses from `GET /api/stats`,
 * and beside them this browser's own check of every channel's hash chain. The figures
 * refresh as new events arrive on the verified stream.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { MARKETS } from '../../../shared/schemas.js';
import type { StatsGroup, StatsQuery, StatsReport } from '../../../shared/stats.js';
import { ApiError, get, query } from '../../api/client.js';
import { useSignedIn } from '../../state/session.js';
import { ChainBadges } from './chain-badge.js';
import { EquityChart } from './equity-chart.js';
import { formatMonth, formatR, formatRate } from './format.js';
import { MonthlyChart } from './monthly-chart.js';
import { useChainWatch } from './use-chain-watch.js';
import './stats.css';

const BREAKDOWNS = [
  ['byChannel', 'Channel'],
  ['byMarket', 'Market'],
  ['bySymbol', 'Symbol'],
  ['bySource', 'Source'],
  ['byMonth', 'Month'],
] as const;
type Breakdown = (typeof BREAKDOWNS)[number][0];

/** Refetch at most this often while events stream in. */
const REFRESH_MS = 1000;

/** The API's `to` is exclusive; the date field means "through this day". */
function dayAfter(date: string): string {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString().slice(0, 10);
}

export function StatsPage() {
  const { me } = useSignedIn();
  const [filters, setFilters] = useState<StatsQuery>({});
  const [report, setReport] = useState<StatsReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [breakdown, setBreakdown] = useState<Breakdown>('byChannel');
  const watch = useChainWatch();
  const channelNames = useMemo(() => new Map(me.channels.map((c) => [c.slug, c.name])), [me.channels]);

  // Refetch when the filters change, and (at most once a second) when the verified stream
  // has moved past the report.
  const [version, setVersion] = useState(0);
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (refreshTimer.current) clearTimeout(refreshTimer.current);
    },
    [],
  );
  useEffect(() => {
    if (!report || watch.headSeq <= report.upToSeq || refreshTimer.current) return;
    refreshTimer.current = setTimeout(() => {
      refreshTimer.current = null;
      setVersion((v) => v + 1);
    }, REFRESH_MS);
  }, [watch.headSeq, report]);
  useEffect(() => {
    let cancelled = false;
    get<StatsReport>(`/api/stats${query({ ...filters, to: filters.to && dayAfter(filters.to) })}`)
      .then((next) => {
        if (cancelled) return;
        setReport(next);
        setError(null);
      })
      .catch((failure: unknown) => {
        if (!cancelled) setError(failure instanceof ApiError ? failure.message : String(failure));
      });
    return () => {
      cancelled = true;
    };
  }, [filters, version]);

  const set = (key: keyof StatsQuery, value: string) =>
    setFilters((current) => ({ ...current, [key]: value.trim() === '' ? undefined : value }));
  const totals = report?.totals;

  return (
    <div className="page stats">
      <header className="page__header">
        <div>
          <h1>Statistics</h1>
          <p className="muted">
            Computed from the published events alone, which are never edited or deleted
            {report ? ` (up to seq ${report.upToSeq})` : ''}.
          </p>
        </div>
      </header>

      <form className="filters stats__filters" aria-label="Statistics filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Channel
          <select value={filters.channel ?? ''} onChange={(e) => set('channel', e.target.value)}>
            <option value="">All channels</option>
            {me.channels.map((c) => (
              <option key={c.slug} value={c.slug}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Market
          <select value={filters.market ?? ''} onChange={(e) => set('market', e.target.value)}>
            <option value="">All markets</option>
            {MARKETS.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label>
          Symbol
          <input value={filters.symbol ?? ''} onChange={(e) => set('symbol', e.target.value)} placeholder="any" />
        </label>
        <label>
          Source
          <input value={filters.source ?? ''} onChange={(e) => set('source', e.target.value)} placeholder="any" />
        </label>
        <label>
          From
          <input type="date" value={filters.from ?? ''} onChange={(e) => set('from', e.target.value)} />
        </label>
        <label>
          Through
          <input type="date" value={filters.to ?? ''} onChange={(e) => set('to', e.target.value)} />
        </label>
      </form>

      {error ? <p className="notice notice--error">{error}</p> : null}

      <section className="stats__tiles" aria-label="Totals" data-testid="stats-totals">
        <Tile label="Signals" value={totals ? String(totals.signals) : '…'} testId="signals" />
        <Tile label="Win rate" value={totals ? formatRate(totals.winRate) : '…'} testId="win-rate" />
        <Tile label="Won / lost" value={totals ? `${totals.wins} / ${totals.losses}` : '…'} testId="won-lost" />
        <Tile label="Average R" value={totals ? formatR(totals.averageR) : '…'} testId="average-r" />
        <Tile label="Total R" value={totals ? formatR(totals.totalR) : '…'} testId="total-r" />
        <Tile
          label="Open · closed · cancelled"
          value={totals ? `${totals.open} · ${totals.closed} · ${totals.cancelled}` : '…'}
          testId="counts"
        />
      </section>

      <div className="two-col stats__charts">
        <section className="card">
          <h2>Equity curve (cumulative R)</h2>
          {report ? <EquityChart points={report.equity} /> : null}
        </section>
        <section className="card">
          <h2>Wins and losses by month</h2>
          <p className="chart__legend small muted">
            <span className="chart__key chart__key--win" aria-hidden="true" /> won{' '}
            <span className="chart__key chart__key--loss" aria-hidden="true" /> lost
          </p>
          {report ? <MonthlyChart months={report.byMonth} /> : null}
        </section>
      </div>

      <section className="card">
        <h2>History check</h2>
        <p className="muted small">
          This browser recomputes every event's hash and follows each channel's chain, and compares it with the head the
          server signed.
        </p>
        <ChainBadges watch={watch} channelNames={channelNames} />
      </section>

      <section className="card">
        <div className="stats__breakdown-head">
          <h2>Breakdown</h2>
          <div className="toggle-group" role="group" aria-label="Break down by">
            {BREAKDOWNS.map(([key, label]) => (
              <button
                key={key}
                type="button"
                className="button button--small"
                aria-pressed={breakdown === key}
                onClick={() => setBreakdown(key)}
              >
                {label}
              </button>
            ))}
          </div>
        </div>
        {report ? <BreakdownTable groups={report[breakdown]} kind={breakdown} names={channelNames} /> : null}
      </section>

      <details className="card stats__rules">
        <summary>How the figures are counted</summary>
        <ul>
          <li>A win is a signal that hit at least one take-profit before any stop-loss.</li>
          <li>
            A loss hit its stop-loss before any take-profit, or was closed by hand before any take-profit at a losing
            price. A manual close can make a call a loss, never a win.
          </li>
          <li>Cancelled signals and signals closed by hand at or above entry without a take-profit are neither.</li>
          <li>
            R = reward ÷ risk from the entry and the original stop, using the final exit price only (partial
            take-profits are not scaled out). Only closed signals with an exit price have an R.
          </li>
          <li>Months and the date filters use the time a signal was published (UTC); the curve uses when it closed.</li>
        </ul>
      </details>
    </div>
  );
}

function Tile(props: { label: string; value: string; testId: string }) {
  return (
    <div className="card stats__tile" data-testid={`tile-${props.testId}`}>
      <span className="muted small">{props.label}</span>
      <strong>{props.value}</strong>
    </div>
  );
}

function BreakdownTable(props: { groups: readonly StatsGroup[]; kind: Breakdown; names: ReadonlyMap<string, string> }) {
  const label = (key: string) => {
    if (props.kind === 'byChannel') return props.names.get(key) ?? key;
    if (props.kind === 'byMonth') return formatMonth(key);
    if (props.kind === 'bySource' && key === '') return 'unspecified';
    return key;
  };
  if (props.groups.length === 0) return <p className="muted">No signals in this selection.</p>;
  return (
    <div className="stats__table-wrap">
      <table className="stats__table" data-testid="breakdown">
        <thead>
          <tr>
            <th scope="col">{BREAKDOWNS.find(([k]) => k === props.kind)?.[1]}</th>
            <th scope="col">Signals</th>
            <th scope="col">Open</th>
            <th scope="col">Closed</th>
            <th scope="col">Won</th>
            <th scope="col">Lost</th>
            <th scope="col">Win rate</th>
            <th scope="col">Avg R</th>
            <th scope="col">Total R</th>
          </tr>
        </thead>
        <tbody>
          {props.groups.map((g) => (
            <tr key={g.key} data-key={g.key}>
              <th scope="row">{label(g.key)}</th>
              <td>{g.signals}</td>
              <td>{g.open}</td>
              <td>{g.closed}</td>
              <td>{g.wins}</td>
              <td>{g.losses}</td>
              <td>{formatRate(g.winRate)}</td>
              <td>{formatR(g.averageR)}</td>
              <td>{formatR(g.totalR)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
