/**
 * A TradingView alert (or any webhook body written with the same keys) read into what the log
 * takes: a new signal, or the close of the symbol's open signal. Pure — no I/O — so every rule
 * here is tested on bodies alone.
 *
 * Guarantees: what is returned passed the API's own schemas (`signalInputSchema`,
 * `signalUpdateInputSchema`), so an alert is refused for exactly what `POST /api/signals` would
 * refuse; and every refusal is keyed by the key the alert's author wrote (or should write), in
 * words that say what to fill in, since the author only ever sees the request log.
 */
import { fieldErrors } from '../../shared/field-errors.js';
import {
  MARKETS,
  marketSchema,
  signalInputSchema,
  signalUpdateInputSchema,
  type Market,
  type Side,
  type SignalInput,
  type SignalUpdateInput,
} from '../../shared/schemas.js';
import { parseTextSignal } from '../../shared/text-signal.js';

/** What a source supplies when an alert does not say. */
export interface SourceDefaults {
  channel: string;
  market: Market | null;
  /** The signal's `source` when the alert names none. */
  label: string | null;
}

export type WebhookBody = { format: 'json'; value: unknown } | { format: 'text'; text: string };

export type Reasons = Record<string, string>;

export type BodyRead = { ok: true; body: WebhookBody } | { ok: false; status: 400 | 415; reasons: Reasons };

/** The schema field → the key the author wrote for it, to name that key in later refusals. */
export type FieldKeys = Readonly<Record<string, string>>;

export type AlertAction =
  | { kind: 'publish'; input: SignalInput; alertId: string | null; warnings: string[]; keys: FieldKeys }
  | {
      kind: 'close';
      symbol: string;
      /** Close only a signal of this side (`close long`, a sell that leaves the strategy flat…). */
      side: Side | null;
      update: SignalUpdateInput;
      alertId: string | null;
      keys: FieldKeys;
    };

export type AlertRead = ({ ok: true } & AlertAction) | { ok: false; reasons: Reasons };

const ID_MAX_CHARS = 200;

/**
 * The body as the sender meant it. TradingView posts `application/json` when the message is
 * valid JSON and `text/plain` otherwise — so a text body that opens with `{` is JSON that broke
 * (usually an unquoted placeholder that rendered as `NaN` or nothing), and is reported as such
 * rather than read as a text signal.
 */
export function readWebhookBody(raw: string, contentType: string | undefined): BodyRead {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const text = raw.trim();
  if (text === '') {
    return {
      ok: false,
      status: 400,
      reasons: { body: 'is empty: write the alert message in the alert\'s "Message" box' },
    };
  }
  const json = media === 'application/json' || media.endsWith('+json');
  if (!json && media !== '' && !media.startsWith('text/')) {
    return {
      ok: false,
      status: 415,
      reasons: { body: `is ${media}: send text/plain (a text signal) or application/json (alert keys)` },
    };
  }
  if (!json && !text.startsWith('{') && !text.startsWith('[')) return { ok: true, body: { format: 'text', text: raw } };
  try {
    return { ok: true, body: { format: 'json', value: JSON.parse(text) as unknown } };
  } catch (error) {
    return {
      ok: false,
      status: 400,
      reasons: {
        body:
          `is not valid JSON (${(error as Error).message}): quote every value, e.g. "sl": "{{plot("Stop")}}" — ` +
          'an unquoted placeholder with no value renders as NaN or nothing and breaks the message',
      },
    };
  }
}

/** Reads an alert body into a signal to publish or a close, for a source with these defaults. */
export function readAlert(body: WebhookBody, defaults: SourceDefaults): AlertRead {
  if (body.format === 'text') return readText(body.text, defaults);
  const { value } = body;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      reasons: { body: 'must be a JSON object such as {"ticker": "{{ticker}}", "action": "buy", …}' },
    };
  }
  return readJson(new AlertKeys(value as Record<string, unknown>), defaults);
}

// ---------------------------------------------------------------- text

function readText(text: string, defaults: SourceDefaults): AlertRead {
  const parsed = parseTextSignal(text, defaults.market ? { market: defaults.market } : {});
  if (!parsed.ok) return { ok: false, reasons: { ...parsed.errors } };
  const candidate = {
    ...parsed.signal,
    channel: defaults.channel,
    ...(defaults.label ? { source: defaults.label } : {}),
  };
  const checked = signalInputSchema.safeParse(candidate);
  if (!checked.success) return { ok: false, reasons: fieldErrors(checked.error) };
  return { ok: true, kind: 'publish', input: checked.data, alertId: null, warnings: parsed.warnings, keys: {} };
}

// ---------------------------------------------------------------- JSON keys

/** Every alias a field is read from, in order of preference; matched ignoring case, `_`, `-` and spaces. */
const ALIASES = {
  symbol: ['ticker', 'symbol'],
  action: ['action', 'side'],
  position: ['marketPosition', 'position'],
  entry: ['entry', 'price', 'close'],
  stopLoss: ['sl', 'stopLoss', 'stop'],
  takeProfits: ['tp', 'takeProfits', 'takeProfit'],
  notes: ['comment', 'notes'],
  market: ['market'],
  timeframe: ['timeframe', 'interval'],
  leverage: ['leverage'],
  source: ['source'],
  id: ['id'],
} as const;
type Field = keyof typeof ALIASES;
const TARGET_KEYS = ['tp1', 'tp2', 'tp3', 'tp4', 'tp5'] as const;

const normalise = (key: string) => key.toLowerCase().replace(/[\s_-]+/g, '');

/** The body's keys, found by alias, remembering which the author used. */
class AlertKeys {
  private readonly byName = new Map<string, string>();
  private readonly read = new Set<string>();

  constructor(private readonly body: Record<string, unknown>) {
    for (const key of Object.keys(body)) if (!this.byName.has(normalise(key))) this.byName.set(normalise(key), key);
  }

  /** The first alias present with a value (null counts as absent), and the key as written. */
  find(field: Field): { key: string; value: unknown } | undefined {
    for (const alias of ALIASES[field]) {
      const hit = this.take(alias);
      if (hit) return hit;
    }
    return undefined;
  }

  take(alias: string): { key: string; value: unknown } | undefined {
    const key = this.byName.get(normalise(alias));
    if (key === undefined) return undefined;
    this.read.add(key);
    const value = this.body[key];
    return value === null || value === undefined ? undefined : { key, value };
  }

  /** Keys nothing read: usually a misspelling, worth naming when the alert is refused. */
  unread(): string[] {
    const known = new Set([...Object.values(ALIASES).flat(), ...TARGET_KEYS].map(normalise));
    return Object.keys(this.body).filter((k) => !this.read.has(k) && !known.has(normalise(k)));
  }
}

/** What to write, per field, when it is missing. */
const MISSING = {
  symbol: ['ticker', 'is required: add "ticker": "{{ticker}}"'],
  action: ['action', 'is required: add "action": "{{strategy.order.action}}" (strategy) or "buy"/"sell" (indicator)'],
  entry: ['price', 'is required: add "price": "{{close}}" (or "{{strategy.order.price}}" in a strategy)'],
  stopLoss: ['sl', 'is required: add "sl" with the stop price — a plot such as "{{plot("Stop")}}" or a fixed number'],
  takeProfits: [
    'tp',
    'is required: add "tp" with one to five prices ("{{plot("Target 1")}}", "65000 66000") or "tp1"…"tp5"',
  ],
  market: ['market', `is required: add "market" (one of ${MARKETS.join(', ')}), or set the source's default market`],
  closePrice: ['price', 'is required to close at a price: add "price": "{{close}}"'],
} as const;

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/** A number as TradingView renders it (placeholders render as text, so numbers often arrive quoted). */
function numberOf(value: unknown): number | { error: string } {
  if (typeof value === 'number') return Number.isFinite(value) ? value : { error: 'must be a finite number' };
  if (typeof value !== 'string') return { error: 'must be a number, or a number in quotes' };
  const text = value.trim();
  if (text === '') return { error: 'is empty: the placeholder rendered nothing, or the value was left blank' };
  if (/^[+-]?nan$/i.test(text)) {
    return { error: 'is NaN: the plot or value had no value (na) on the bar the alert fired on' };
  }
  if (/\{\{.*\}\}/.test(text)) {
    return { error: `still reads ${text}: TradingView left the placeholder as written — check its spelling` };
  }
  return NUMBER.test(text) ? Number(text) : { error: `is not a number: ${JSON.stringify(text)}` };
}

/** `BINANCE:BTCUSDT` → `BTCUSDT`: the exchange prefix TradingView puts before a ticker. */
function symbolOf(value: unknown): string | { error: string } {
  if (typeof value !== 'string') return { error: 'must be a string such as "{{ticker}}"' };
  const text = value.trim();
  return text.slice(text.lastIndexOf(':') + 1);
}

/** TradingView's `{{interval}}` in the words traders use: 60 → 1h, 15 → 15m, 1D → 1D. */
function timeframeOf(value: unknown): string | { error: string } {
  if (typeof value !== 'string' && typeof value !== 'number') return { error: 'must be a string such as "4h"' };
  const text = String(value).trim();
  if (!/^\d+$/.test(text)) return text;
  const minutes = Number(text);
  return minutes >= 60 && minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`;
}

type Intent = { kind: 'open'; side: Side } | { kind: 'close'; side: Side | null };

/** `buy`, `long`, `Sell`, `close`, `exit long`, `sell to close`, `flat`… */
function intentOf(action: string): Intent | undefined {
  const a = action
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ');
  const opens: Record<string, Side> = { buy: 'buy', long: 'buy', sell: 'sell', short: 'sell' };
  const direct = opens[a] ?? opens[a.replace(/^(?:open|enter|go) |(?: to open| entry)$/g, '')];
  if (direct) return { kind: 'open', side: direct };
  // A close names the position it ends: "close long"/"sell to close" end a buy.
  if (/^(?:close|exit) ?long$|^long (?:close|exit)$|^sell to close$/.test(a)) return { kind: 'close', side: 'buy' };
  if (/^(?:close|exit) ?short$|^short (?:close|exit)$|^buy to (?:close|cover)$|^cover$/.test(a)) {
    return { kind: 'close', side: 'sell' };
  }
  if (/^(?:close|exit|flat|flatten)(?: ?(?:all|position))?$/.test(a)) return { kind: 'close', side: null };
  return undefined;
}

/**
 * The intent of an action together with `{{strategy.market_position}}`: an order that leaves a
 * strategy flat closes (a sell ends a long), and one that only shrinks a position is no signal.
 */
function intentWithPosition(
  intent: Intent | undefined,
  position: string | undefined,
  actionKey: string,
  positionKey: string,
): Intent | Reasons {
  if (position === undefined) return intent ?? { [actionKey]: MISSING.action[1] };
  const p = position.trim().toLowerCase();
  if (p === 'flat') {
    if (!intent || intent.kind === 'close') return { kind: 'close', side: intent?.side ?? null };
    return { kind: 'close', side: intent.side === 'buy' ? 'sell' : 'buy' };
  }
  if (p !== 'long' && p !== 'short')
    return { [positionKey]: `must be long, short or flat; got ${JSON.stringify(position)}` };
  if (!intent) return { [actionKey]: MISSING.action[1] };
  const held: Side = p === 'long' ? 'buy' : 'sell';
  if (intent.kind === 'open' && intent.side !== held) {
    return {
      [actionKey]:
        `a ${intent.side} that leaves the position ${p} only reduces it: signal-desk publishes entries and full ` +
        'closes, so this order is not published',
    };
  }
  return intent;
}

/** Collects values and per-key refusals while reading one alert. */
class Reading {
  readonly reasons: Reasons = {};
  /** Field → the key the author wrote for it. */
  readonly keys: Record<string, string> = {};
  /** The key each take-profit came from, in order (`tp` for all of a list, else `tp1`, `tp2`…). */
  targetKeys: string[] = [];

  constructor(readonly body: AlertKeys) {}

  refuse(key: string, message: string): undefined {
    this.reasons[key] ??= message;
    return undefined;
  }

  get refused(): boolean {
    return Object.keys(this.reasons).length > 0;
  }

  /** A field's value, converted; `missing` names what to write when it is absent. */
  get<T>(
    field: Field,
    convert: (value: unknown) => T | { error: string },
    missing?: readonly [string, string],
  ): T | undefined {
    const hit = this.body.find(field);
    if (!hit) return missing ? this.refuse(missing[0], missing[1]) : undefined;
    this.keys[field] = hit.key;
    const converted = convert(hit.value);
    if (typeof converted === 'object' && converted !== null && 'error' in converted) {
      return this.refuse(hit.key, converted.error);
    }
    return converted as T;
  }

  text(field: Field): string | undefined {
    return this.get(field, (v) =>
      typeof v === 'string' ? v : typeof v === 'number' ? String(v) : { error: 'must be a string' },
    );
  }

  /** The key a schema field's refusal is reported under: the author's, else the one to add. */
  keyFor(field: string): string {
    const [name = '', index] = field.split('.');
    if (name === 'takeProfits' && index !== undefined) return this.targetKeys[Number(index)] ?? this.keyFor(name);
    const own = name === 'side' ? 'action' : name === 'idempotencyKey' ? 'id' : name === 'price' ? 'entry' : name;
    return this.keys[own] ?? ALIASES[own as Field]?.[0] ?? own;
  }

  /** Schema refusals under the author's keys, with the entry quoted where the rule is about it. */
  schemaReasons(errors: Reasons, entry: unknown): void {
    for (const [field, message] of Object.entries(errors)) {
      const [name, index] = field.split('.');
      const about = / the entry/.test(message) ? ` (the entry is ${String(entry)})` : '';
      const which = name === 'takeProfits' && index !== undefined ? `target ${Number(index) + 1} ` : '';
      const key = this.keyFor(field);
      const sentence = `${which}${message}${about}`;
      this.reasons[key] = this.reasons[key] ? `${this.reasons[key]}; ${sentence}` : sentence;
    }
  }

  /** The refusal, naming keys nothing read (usually a misspelling). */
  refusal(): AlertRead {
    const unread = this.body.unread();
    if (unread.length)
      this.reasons.ignored = `these keys are not read: ${unread.map((k) => JSON.stringify(k)).join(', ')}`;
    return { ok: false, reasons: this.reasons };
  }

  /** Field → key, for refusals that come later (the lifecycle rules checked at append). */
  fieldKeys(): FieldKeys {
    return { price: this.keyFor('price'), notes: this.keyFor('notes'), id: this.keyFor('id'), ...this.keys };
  }
}

function readJson(body: AlertKeys, defaults: SourceDefaults): AlertRead {
  const r = new Reading(body);
  const symbol = r.get('symbol', symbolOf, MISSING.symbol);
  const intent = readIntent(r);
  // An action that was written but cannot be read makes every other complaint beside the point.
  if (r.keys.action && r.reasons[r.keys.action]) return r.refusal();
  const alertId = readId(r);
  if (intent?.kind === 'close') return readClose(r, symbol, intent.side, alertId);
  return readOpen(r, defaults, { symbol, side: intent?.side, alertId });
}

function readIntent(r: Reading): Intent | undefined {
  const action = r.text('action');
  const position = r.text('position');
  const actionKey = r.keys.action ?? 'action';
  const intent = action === undefined ? undefined : intentOf(action);
  if (action !== undefined && !intent) {
    return r.refuse(actionKey, `must be buy, sell, long, short, or close, exit, flat; got ${JSON.stringify(action)}`);
  }
  const combined = intentWithPosition(intent, position, actionKey, r.keys.position ?? 'marketPosition');
  if ('kind' in combined) return combined as Intent;
  for (const [key, message] of Object.entries(combined)) r.refuse(key, message);
  return undefined;
}

function readId(r: Reading): string | null {
  const id = r.get('id', (v) => {
    if (typeof v !== 'string' && typeof v !== 'number') return { error: 'must be a string such as "{{timenow}}"' };
    const text = String(v).trim();
    return text.length > ID_MAX_CHARS ? { error: `must be at most ${ID_MAX_CHARS} characters` } : text;
  });
  return id || null;
}

function readClose(r: Reading, symbol: string | undefined, side: Side | null, alertId: string | null): AlertRead {
  const price = r.get('entry', numberOf, MISSING.closePrice);
  const notes = r.text('notes')?.trim();
  if (r.refused || symbol === undefined) return r.refusal();
  const checked = signalUpdateInputSchema.safeParse({ type: 'closed', price, ...(notes ? { notes } : {}) });
  if (!checked.success) {
    r.schemaReasons(fieldErrors(checked.error), undefined);
    return r.refusal();
  }
  const upper = symbol.toUpperCase();
  return { ok: true, kind: 'close', symbol: upper, side, update: checked.data, alertId, keys: r.fieldKeys() };
}

function readOpen(
  r: Reading,
  defaults: SourceDefaults,
  read: { symbol: string | undefined; side: Side | undefined; alertId: string | null },
): AlertRead {
  const entry = r.get('entry', numberOf, MISSING.entry);
  const stopLoss = r.get('stopLoss', numberOf, MISSING.stopLoss);
  const takeProfits = readTargets(r);
  const market = r.get('market', marketOf);
  if (!r.keys.market && !defaults.market) r.refuse(MISSING.market[0], MISSING.market[1]);
  const timeframe = r.get('timeframe', timeframeOf);
  const leverage = r.get('leverage', (v) => numberOf(typeof v === 'string' ? v.trim().replace(/^x|x$/i, '') : v));
  const notes = r.text('notes')?.trim();
  const label = r.text('source')?.trim() || defaults.label;
  if (r.refused) return r.refusal();

  const candidate: Record<string, unknown> = {
    channel: defaults.channel,
    symbol: read.symbol,
    market: market ?? defaults.market,
    side: read.side,
    entry,
    stopLoss,
    takeProfits,
    ...(timeframe ? { timeframe } : {}),
    ...(leverage !== undefined ? { leverage } : {}),
    ...(notes ? { notes } : {}),
    ...(label ? { source: label } : {}),
  };
  const checked = signalInputSchema.safeParse(candidate);
  if (!checked.success) {
    r.schemaReasons(fieldErrors(checked.error), entry);
    return r.refusal();
  }
  return { ok: true, kind: 'publish', input: checked.data, alertId: read.alertId, warnings: [], keys: r.fieldKeys() };
}

function marketOf(value: unknown): Market | { error: string } {
  const market = marketSchema.safeParse(typeof value === 'string' ? value.trim().toLowerCase() : '');
  return market.success ? market.data : { error: market.error.issues[0]?.message ?? 'is not a market' };
}

/** `tp` as a list or a string of prices ("65000, 66000"), else `tp1`…`tp5` in order (blank ones skipped). */
function readTargets(r: Reading): number[] | undefined {
  const list = r.body.find('takeProfits');
  const numbered = TARGET_KEYS.map((k) => r.body.take(k)).filter((hit) => hit !== undefined);
  if (list && numbered.length) {
    return r.refuse(numbered[0]!.key, `give the targets either in "${list.key}" or in "tp1"…"tp5", not both`);
  }
  if (!list && !numbered.length) return r.refuse(MISSING.takeProfits[0], MISSING.takeProfits[1]);
  const hits = list
    ? splitTargets(list.value).map((value) => ({ key: list.key, value }))
    : numbered.filter((hit) => !(typeof hit.value === 'string' && hit.value.trim() === ''));
  r.keys.takeProfits = list?.key ?? hits[0]?.key ?? 'tp1';
  r.targetKeys = hits.map((hit) => hit.key);
  const prices: number[] = [];
  hits.forEach((hit, i) => {
    const price = numberOf(hit.value);
    if (typeof price === 'number') prices.push(price);
    else r.refuse(hit.key, list ? `target ${i + 1} ${price.error}` : price.error);
  });
  return prices;
}

function splitTargets(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return value.split(/[\s,;|/]+/).filter((part) => part !== '');
  return [value];
}
