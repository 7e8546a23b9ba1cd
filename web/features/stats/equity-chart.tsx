/**
 * The equity curve: cumulative R after each closed signal, over the time it closed. Drawn
 * as SVG by hand; every point has a tooltip and the curve is described for screen readers.
 */
import type { EquityPoint } from '../../../shared/stats.js';
import { formatR } from './format.js';
import { linearScale } from './scale.js';

const WIDTH = 720;
const HEIGHT = 260;
const PAD = { top: 16, right: 20, bottom: 34, left: 60 };

const dayFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

export function EquityChart(props: { points: readonly EquityPoint[] }) {
  const { points } = props;
  if (points.length === 0) {
    return <p className="muted">No closed signal with an exit price yet: the curve starts with the first one.</p>;
  }
  const times = points.map((p) => Date.parse(p.at));
  const first = Math.min(...times);
  const last = Math.max(...times);
  const x = (t: number) =>
    last === first
      ? (PAD.left + WIDTH - PAD.right) / 2
      : PAD.left + ((t - first) / (last - first)) * (WIDTH - PAD.left - PAD.right);
  const y = linearScale(
    points.map((p) => p.cumulativeR),
    HEIGHT - PAD.bottom,
    PAD.top,
    [0],
  );
  // The curve starts at 0 R just before the first close.
  const coords = [
    [x(first), y(0)] as const,
    ...points.map((p, i) => [x(times[i] ?? first), y(p.cumulativeR)] as const),
  ];
  const path = coords.map(([cx, cy], i) => `${i === 0 ? 'M' : 'L'}${cx.toFixed(1)},${cy.toFixed(1)}`).join(' ');
  const final = points[points.length - 1];
  const description =
    `${points.length} closed signals from ${dayFormat.format(first)} to ${dayFormat.format(last)}; ` +
    `cumulative R ends at ${formatR(final?.cumulativeR ?? 0)}.`;

  return (
    <svg
      className="chart"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={`Equity curve: ${description}`}
      data-testid="equity-chart"
    >
      <desc>{description}</desc>
      {y.ticks.map((tick) => (
        <g key={tick} className={tick === 0 ? 'chart__zero' : 'chart__grid'}>
          <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} />
          <text x={PAD.left - 8} y={y(tick)} dy="0.32em" textAnchor="end">
            {formatR(tick)}
          </text>
        </g>
      ))}
      <g className="chart__axis">
        <text x={PAD.left} y={HEIGHT - 10} textAnchor="start">
          {dayFormat.format(first)}
        </text>
        {last !== first ? (
          <text x={WIDTH - PAD.right} y={HEIGHT - 10} textAnchor="end">
            {dayFormat.format(last)}
          </text>
        ) : null}
      </g>
      <path className="chart__line" d={path} fill="none" />
      {points.map((p, i) => (
        <circle
          key={p.seq}
          className={p.r >= 0 ? 'chart__dot chart__dot--up' : 'chart__dot chart__dot--down'}
          cx={coords[i + 1]?.[0]}
          cy={coords[i + 1]?.[1]}
          r={3.5}
          data-testid="equity-point"
          data-r={p.r}
          data-cumulative={p.cumulativeR}
        >
          <title>
            {`${p.symbol} (${p.channel}) closed ${dayFormat.format(Date.parse(p.at))}: ${formatR(p.r)}, total ${formatR(p.cumulativeR)}`}
          </title>
        </circle>
      ))}
    </svg>
  );
}
