/**
 * A small area chart of one figure over the last hour, drawn as SVG by hand like the
 * statistics page's charts. The time axis ends now and starts an hour ago, or when the node
 * started if that is later (its samples begin then), so a young node's few samples are not a
 * sliver at the right edge. The value axis starts at 0 and tops out at a round number, so a
 * new sample moves the line, not the frame. The latest value and the peak are in its
 * accessible name.
 */
import { formatDuration } from '../../components/format.js';
import { niceStep } from '../stats/scale.js';

const WIDTH = 300;
const HEIGHT = 64;
const TOP = 4;
const BOTTOM = HEIGHT - 2;
const HOUR_MS = 3_600_000;
/** The narrowest time axis, so the first seconds after a start do not magnify noise. */
const MIN_SPAN_MS = 60_000;

export interface Point {
  at: number;
  value: number;
}

export function Sparkline(props: {
  points: readonly Point[];
  /** Server time (ms) the axis ends at. */
  now: number;
  /** Server time (ms) the node started: there are no samples before it. */
  since: number;
  /** What is drawn, for the accessible name: "Connected subscribers". */
  label: string;
  format(value: number): string;
  testId: string;
}) {
  const { points, now } = props;
  const start = Math.min(now - MIN_SPAN_MS, Math.max(now - HOUR_MS, props.since));
  const span = now - start;
  const period = span >= HOUR_MS ? 'over the last hour' : `since this node started ${formatDuration(span)} ago`;
  const shown = points.filter((p) => p.at >= start);
  const peak = Math.max(0, ...shown.map((p) => p.value));
  // A round top at or above the peak, at least 1 (counts have no half a subscriber): 1, 2, 5, 10, 20…
  const step = niceStep(Math.max(peak, 1), 2);
  const top = Math.max(1, Math.ceil(peak / step) * step);
  const x = (at: number) => Math.min(WIDTH, Math.max(0, ((at - start) / span) * WIDTH));
  const y = (value: number) => BOTTOM - (value / top) * (BOTTOM - TOP);
  const coords = shown.map((p) => [x(p.at), y(p.value)] as const);
  const line = coords.map(([cx, cy], i) => `${i === 0 ? 'M' : 'L'}${cx.toFixed(1)},${cy.toFixed(1)}`).join(' ');
  const first = coords[0];
  const last = coords.at(-1);
  const area = first && last ? `${line} L${last[0].toFixed(1)},${BOTTOM} L${first[0].toFixed(1)},${BOTTOM} Z` : '';
  const latest = shown.at(-1);
  const description = latest
    ? `${props.label} ${period}: now ${props.format(latest.value)}, peak ${props.format(peak)}`
    : `${props.label} ${period}: no sample yet (one every 10 seconds)`;

  return (
    <figure className="spark">
      <svg
        className="spark__chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={description}
        data-testid={props.testId}
        data-samples={shown.length}
      >
        <title>{description}</title>
        <line className="spark__grid" x1={0} x2={WIDTH} y1={TOP} y2={TOP} />
        <line className="spark__floor" x1={0} x2={WIDTH} y1={BOTTOM} y2={BOTTOM} />
        {area ? <path className="spark__area" d={area} /> : null}
        {line ? <path className="spark__line" d={line} fill="none" /> : null}
        {last ? <circle className="spark__dot" cx={last[0]} cy={last[1]} r={2.5} /> : null}
      </svg>
      <figcaption className="spark__caption" aria-hidden="true">
        <span>{span >= HOUR_MS ? '1 h ago' : `${formatDuration(span)} ago`}</span>
        <span>{latest ? `scale 0–${props.format(top)}` : 'first sample within 10 s'}</span>
        <span>now</span>
      </figcaption>
    </figure>
  );
}
