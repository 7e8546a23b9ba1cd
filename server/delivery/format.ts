/**
 * How one event reads to a person, the same in a Telegram chat, a Discord channel and a push
 * notification: a title ("BUY BTCUSDT", "TP1 hit at 65,000 · BUY BTCUSDT"), a few lines of
 * prices, the notes, the channel, a link to the signal and a colour.
 *
 * Guarantees: every function is pure. Prices are written as traders write them: positional
 * notation (never an exponent), exactly the decimals the number has, thousands grouped with
 * commas. `telegramHtml` escapes everything it interpolates for Telegram's HTML parser and stays
 * within the length it is given by shortening only the notes.
 */
import type { SignalData, SignalView, UpdateData } from '../../shared/events.js';
import type { Side } from '../../shared/schemas.js';
import { statusLabel, UPDATE_LABELS } from '../../shared/signal-state.js';
import { plainNumber } from '../../shared/text-signal.js';
import type { Outgoing } from './adapter.js';

export type Tone = 'buy' | 'sell' | 'neutral';

/** Green for a buy, red for a sell, slate for what is neither (notes). */
export const TONE_COLORS: Record<Tone, number> = { buy: 0x16a34a, sell: 0xdc2626, neutral: 0x64748b };

/** One labelled value of a new signal ("Entry", "64,000"), for layouts with fields. */
export interface Fact {
  name: string;
  value: string;
}

export interface RenderedEvent {
  title: string;
  /** Short lines under the title: prices, status. */
  lines: string[];
  /** The same content as named values, for a new signal; empty for an update. */
  facts: Fact[];
  /** The author's notes, as written; null when there are none. */
  notes: string | null;
  channel: string;
  seq: number;
  signalId: string;
  /** `/signals/<signalId>`. */
  path: string;
  /** `path` on the public URL, when the server knows its public URL. */
  url: string | null;
  tone: Tone;
  color: number;
  /** ISO time of the event. */
  createdAt: string;
}

export function renderEvent({ event, signal }: Outgoing, publicUrl: string | null): RenderedEvent {
  const common = {
    channel: event.channel,
    seq: event.seq,
    signalId: event.signalId,
    path: signalPath(event.signalId),
    url: signalUrl(event.signalId, publicUrl),
    createdAt: event.createdAt,
  };
  const content = event.type === 'signal.created' ? renderCreated(event.data) : renderUpdated(event.data, signal);
  return { ...common, ...content, color: TONE_COLORS[content.tone] };
}

type Content = Pick<RenderedEvent, 'title' | 'lines' | 'facts' | 'notes' | 'tone'>;

function renderCreated(data: SignalData): Content {
  const facts: Fact[] = [
    { name: 'Entry', value: formatPrice(data.entry) },
    { name: 'Stop', value: formatPrice(data.stopLoss) },
  ];
  const lines = [`Entry ${formatPrice(data.entry)} · SL ${formatPrice(data.stopLoss)}`];
  if (data.takeProfits.length > 0) {
    const targets = data.takeProfits.map(formatPrice).join(' / ');
    facts.push({ name: 'Targets', value: targets });
    lines.push(`TP ${targets}`);
  }
  const extras: string[] = [];
  if (data.leverage !== undefined) {
    facts.push({ name: 'Leverage', value: `${formatPrice(data.leverage)}x` });
    extras.push(`Leverage ${formatPrice(data.leverage)}x`);
  }
  if (data.timeframe !== undefined) {
    facts.push({ name: 'Timeframe', value: data.timeframe });
    extras.push(`Timeframe ${data.timeframe}`);
  }
  if (extras.length > 0) lines.push(extras.join(' · '));
  return { title: sideAndSymbol(data.side, data.symbol), lines, facts, notes: notesOf(data.notes), tone: data.side };
}

function renderUpdated(data: UpdateData, signal: SignalView): Content {
  const stop = signal.breakeven ? `${formatPrice(signal.entry)} (breakeven)` : formatPrice(signal.stopLoss);
  return {
    title: `${updateHeadline(data, signal)} · ${sideAndSymbol(signal.side, signal.symbol)}`,
    lines: [`Status: ${statusLabel(signal)}`, `Entry ${formatPrice(signal.entry)} · SL ${stop}`],
    facts: [],
    notes: notesOf(data.notes),
    tone: data.type === 'note' ? 'neutral' : signal.side,
  };
}

/** What a lifecycle event says happened: "TP1 hit at 65,000", "Closed at 64,500", "Stop moved to breakeven". */
export function updateHeadline(data: UpdateData, signal: Pick<SignalView, 'takeProfits'>): string {
  const at = (price: number | undefined): string => (price === undefined ? '' : ` at ${formatPrice(price)}`);
  switch (data.type) {
    case 'tp_hit': {
      const level = data.level ?? 1;
      return `TP${level} hit${at(data.price ?? signal.takeProfits[level - 1])}`;
    }
    case 'sl_hit':
    case 'closed':
    case 'cancelled':
      return `${UPDATE_LABELS[data.type]}${at(data.price)}`;
    case 'breakeven':
    case 'note':
      return UPDATE_LABELS[data.type];
  }
}

export function sideAndSymbol(side: Side, symbol: string): string {
  return `${side.toUpperCase()} ${symbol}`;
}

function notesOf(notes: string | undefined): string | null {
  const trimmed = notes?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

export function signalPath(signalId: string): string {
  return `/signals/${encodeURIComponent(signalId)}`;
}

/** The signal's page on the public URL (which may carry a path prefix), or null without one. */
export function signalUrl(signalId: string, publicUrl: string | null): string | null {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}${signalPath(signalId)}` : null;
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** A price as traders write it: `64,000`, `1.0850` stays `1.085` (a double keeps no trailing zeros), `0.00000123`. */
export function formatPrice(value: number): string {
  const plain = plainNumber(value);
  const negative = plain.startsWith('-');
  const [int = '', frac] = (negative ? plain.slice(1) : plain).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+$)/g, ',');
  return `${negative ? '-' : ''}${grouped}${frac === undefined ? '' : `.${frac}`}`;
}

// ---------------------------------------------------------------------------------------------
// Text

/** `text` at most `max` UTF-16 units long (as Telegram and browsers count), ending in "…" when cut; never splits a character. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let out = '';
  for (const char of text) {
    if (out.length + char.length > max - 1) break;
    out += char;
  }
  return `${out}…`;
}

/** Lines and notes, for a body under a separate title (a notification). */
export function plainBody(rendered: RenderedEvent): string {
  return [...rendered.lines, ...(rendered.notes === null ? [] : [rendered.notes])].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Telegram HTML

/** Text for Telegram's HTML parse mode: `&`, `<` and `>` escaped (the only entities it knows besides `&quot;`). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A value inside a double-quoted attribute. */
export function escapeHtmlAttribute(text: string): string {
  return escapeHtml(text).replace(/"/g, '&quot;');
}

/** The longest prefix of `text` whose escaped form, with "…" when cut, fits `budget` characters. */
function cutEscaped(text: string, budget: number): string {
  const whole = escapeHtml(text);
  if (whole.length <= budget) return whole;
  let out = '';
  for (const char of text) {
    const next = escapeHtml(char);
    if (out.length + next.length > budget - 1) break;
    out += next;
  }
  return out === '' ? '' : `${out}…`;
}

/** The message in Telegram HTML, at most `maxLength` characters as sent (so also as shown). */
export function telegramHtml(rendered: RenderedEvent, maxLength = 4096): string {
  const head = [`<b>${escapeHtml(rendered.title)}</b>`, ...rendered.lines.map(escapeHtml)].join('\n');
  const channel = `#${escapeHtml(rendered.channel)}`;
  const foot = rendered.url ? `${channel} · <a href="${escapeHtmlAttribute(rendered.url)}">Open signal</a>` : channel;
  const separators = '\n\n'.length * 2;
  const notes =
    rendered.notes === null ? '' : cutEscaped(rendered.notes, maxLength - head.length - foot.length - separators);
  return [head, notes, foot].filter((part) => part !== '').join('\n\n');
}
