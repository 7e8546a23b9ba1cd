/** How R multiples, rates and months read on the statistics page. */

const rFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2, signDisplay: 'exceptZero' });
const percentFormat = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });
const monthFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', timeZone: 'UTC' });

export function formatR(value: number | null): string {
  return value === null ? '—' : `${rFormat.format(value)} R`;
}

export function formatRate(value: number | null): string {
  return value === null ? '—' : percentFormat.format(value);
}

/** `2026-03` → "Mar 2026". */
export function formatMonth(key: string): string {
  const time = Date.parse(`${key}-01T00:00:00Z`);
  return Number.isNaN(time) ? key : monthFormat.format(time);
}
