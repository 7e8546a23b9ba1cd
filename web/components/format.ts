/** How prices and times read everywhere in the app. */
const priceFormats = new Map<number, Intl.NumberFormat>();

export function formatPrice(value: number | undefined): string {
  if (value === undefined) return '—';
  const digits = value >= 1000 ? 2 : value >= 1 ? 4 : 8;
  let format = priceFormats.get(digits);
  if (!format) {
    format = new Intl.NumberFormat(undefined, { maximumFractionDigits: digits });
    priceFormats.set(digits, format);
  }
  return format.format(value);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

export function formatTime(iso: string): string {
  const date = new Date(iso);
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay ? timeFormat.format(date) : `${dateFormat.format(date)} ${timeFormat.format(date)}`;
}

export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString();
}
