/** Small helpers for the hand-drawn SVG charts: linear scales and round tick values. */

export interface Scale {
  (value: number): number;
  ticks: number[];
}

/** A step of 1, 2 or 5 × 10^n giving about `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/**
 * Maps [min, max] (widened to round ticks, and to include `include`) onto [from, to].
 * The ticks are the round values inside the widened domain.
 */
export function linearScale(values: readonly number[], from: number, to: number, include: number[] = []): Scale {
  const all = [...values, ...include];
  let min = all.length ? Math.min(...all) : 0;
  let max = all.length ? Math.max(...all) : 1;
  if (min === max) {
    min -= 1;
    max += 1;
  }
  const step = niceStep(max - min, 4);
  min = Math.floor(min / step) * step;
  max = Math.ceil(max / step) * step;
  const scale = ((value: number) => from + ((value - min) / (max - min)) * (to - from)) as Scale;
  scale.ticks = [];
  // Rounded to the step's precision so 0.1 + 0.2 style sums print cleanly.
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  for (let v = min; v <= max + step / 2; v += step) scale.ticks.push(Number(v.toFixed(digits)));
  return scale;
}
