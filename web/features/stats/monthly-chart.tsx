/** Wins and losses by month, as paired SVG bars with their counts written on them. */
import type { StatsGroup } from '../../../shared/stats.js';
import { formatMonth } from './format.js';
import { linearScale } from './scale.js';

// The same frame as the equity curve, so both read at one size side by side.
const WIDTH = 720;
const HEIGHT = 260;
const PAD = { top: 20, right: 20, bottom: 34, left: 60 };

export function MonthlyChart(props: { months: readonly StatsGroup[] }) {
  const { months } = props;
  if (months.length === 0) return <p className="muted">No signals in this selection.</p>;
  const width = WIDTH;
  const group = Math.min(120, (WIDTH - PAD.left - PAD.right) / months.length);
  const barWidth = Math.max(2, Math.min(28, group * 0.36));
  const gap = Math.min(4, barWidth / 4);
  // Past a year of months, label every few so the labels do not collide.
  const labelEvery = Math.ceil(months.length / 12);
  const start = PAD.left + (WIDTH - PAD.left - PAD.right - group * months.length) / 2;
  const y = linearScale(
    months.flatMap((m) => [m.wins, m.losses]),
    HEIGHT - PAD.bottom,
    PAD.top,
    [0, 1],
  );
  const base = y(0);
  const description = months.map((m) => `${formatMonth(m.key)}: ${m.wins} won, ${m.losses} lost`).join('; ');

  return (
    <svg
      className="chart"
      viewBox={`0 0 ${width} ${HEIGHT}`}
      role="img"
      aria-label={`Wins and losses by month. ${description}`}
      data-testid="monthly-chart"
    >
      <desc>{description}</desc>
      {y.ticks
        .filter((tick) => Number.isInteger(tick))
        .map((tick) => (
          <g key={tick} className={tick === 0 ? 'chart__zero' : 'chart__grid'}>
            <line x1={PAD.left} x2={width - PAD.right} y1={y(tick)} y2={y(tick)} />
            <text x={PAD.left - 8} y={y(tick)} dy="0.32em" textAnchor="end">
              {tick}
            </text>
          </g>
        ))}
      {months.map((month, i) => {
        const left = start + i * group + (group - 2 * barWidth - gap) / 2;
        const bars = [
          { kind: 'win', value: month.wins, x: left },
          { kind: 'loss', value: month.losses, x: left + barWidth + gap },
        ];
        return (
          <g key={month.key} data-month={month.key}>
            {bars.map((bar) => (
              <g key={bar.kind}>
                <rect
                  className={`chart__bar chart__bar--${bar.kind}`}
                  x={bar.x}
                  y={y(bar.value)}
                  width={barWidth}
                  height={Math.max(0, base - y(bar.value))}
                  data-testid="month-bar"
                  data-kind={bar.kind}
                  data-month={month.key}
                  data-value={bar.value}
                >
                  <title>{`${formatMonth(month.key)}: ${bar.value} ${bar.kind === 'win' ? 'won' : 'lost'}`}</title>
                </rect>
                <text className="chart__value" x={bar.x + barWidth / 2} y={y(bar.value) - 4} textAnchor="middle">
                  {bar.value}
                </text>
              </g>
            ))}
            {i % labelEvery === 0 ? (
              <text className="chart__label" x={start + i * group + group / 2} y={HEIGHT - 12} textAnchor="middle">
                {formatMonth(month.key)}
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}
