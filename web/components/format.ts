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

const countFormat = new Intl.NumberFormat(undefined);

/** A count or seq with thousands grouped: 1,204. */
export function formatCount(value: number): string {
  return countFormat.format(value);
}

/** A span of time, short: 45 s, 3 min, 2 h 5 min, 3 d. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d`;
}

const bytesFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** A size in bytes, in binary units: 812 B, 4.2 MiB, 1.3 GiB. */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${bytesFormat.format(unit === 0 ? Math.round(value) : value)} ${UNITS[unit]}`;
}
