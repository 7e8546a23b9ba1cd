/**
 * Text signals: the messages trading-signal channels post (Telegram style, after Cornix's
 * conventions), read into the fields of `signalInputSchema`, and written back.
 *
 * What is read — case-insensitive; emojis, bullets, `#`/`$` tags, extra words, blank lines and
 * Windows line endings are tolerated; `:`, `-`, `=`, `@` or spaces may separate a keyword from its
 * values, and several fields may share one line (`BTCUSDT LONG 10x Entry 64000 SL 63000 TP 65000`):
 *
 * - Symbol and side: `BTC/USDT LONG`, `Buy BTCUSDT`, `#ETH/USDT Short`, `SELL EURUSD @ 1.0850`,
 *   `📈 SOLUSDT.P long`, or `Pair: BTC/USDT` with `Direction: Long`. buy/long → buy, sell/short →
 *   sell. The symbol is kept as written, upper-cased, without a leading `#` or `$`. With no side
 *   written, the prices tell it: stop below the entry and targets above → buy, the reverse → sell.
 * - Entry: `Entry 64000`, `Buy at 64000`, `Buy 64000`, `GOLD SELL 2345`, `Entry zone 63800-64200`,
 *   `Entry Targets: 1) 63800 2) 64200`. Two or more entry prices make a zone: the entry is its
 *   midpoint, rounded to one decimal place more than the more precise bound, and a line
 *   `Entry zone: 63800 – 64200` opens the notes. `CMP`, `market` or `now` is not a price.
 * - Stop-loss: `SL 63000`, `Stop 63000`, `Stop-loss: 63000`, `Stoploss 63000`, `Stop Targets:`
 *   with `1) 63000` below; of several, the first.
 * - Take-profits, in the order written, at most 5: `TP 65000 66000`, `TP1 65000` lines,
 *   `Target 1: 65000`, `Targets: 65000, 66000`, `TP: 65000 / 66000`, `Take-Profit Targets:` with
 *   `1) 65000` lines below, and `Sell 65000 66000` after a `Buy 64000` line (Cornix spot style).
 * - Leverage: `Leverage 10x`, `Leverage: Cross 20x`, `Lev x10`, or `10x` beside the side.
 * - Timeframe: `Timeframe 4h`, `TF: 1H`, kept as written up to a bracket or a comma.
 * - Market: a line `Market: stocks` or a tag such as `#forex`; otherwise told by the symbol
 *   (a USDT/USDC/BUSD quote, a `.P`/`PERP` suffix or a well-known coin → crypto; two ISO
 *   currencies such as EURUSD or GBP/JPY → forex; XAUUSD, GOLD, USOIL, WTI, BRENT… →
 *   commodities; US30, NAS100, SPX, GER40, DAX… → indices); otherwise the caller's default.
 * - Notes: every line that is none of the above, Cornix's `Trailing Configuration` block unread,
 *   and everything after a line starting `Notes:`, which is never read for fields. Lines of only
 *   emojis, tags or decoration (`🔥 VIP SIGNAL 🔥`) are dropped.
 * - Numbers: `64000`, `1.0850`, `$64,000`; a comma followed by exactly three digits groups
 *   thousands (`64,000`, `1,234,567.5`), so a list of such prices needs a space after each comma
 *   (`650, 660`). A plain space never groups thousands (`64 000` is two prices); a thin or narrow
 *   no-break space, as locale formatting writes it, does. Decimal commas (`1,0850`) and exponents
 *   (`1e5`) are not read. `30K` = 30000, `1.5k` = 1500, `2M` = 2000000 (thousands and millions, not
 *   Cornix's satoshi shorthand). A number followed by `%`, `pips` or `points` is never a price;
 *   `1)`, `#1`, `TP1` and `1.`/`1:` before another number are list markers.
 *
 * The result is checked by `signalInputSchema` itself, so a text is refused for exactly what the
 * form would refuse, with one sentence per field.
 */
import { fieldErrors } from './field-errors.js';
import { LIMITS } from './limits.js';
import { MARKETS, signalInputSchema, type Market, type Side, type SignalInput } from './schemas.js';

/** The signal fields a text carries; `channel`, `source` and `idempotencyKey` come from the caller. */
export type ParsedTextSignal = Omit<SignalInput, 'channel' | 'source' | 'idempotencyKey'>;

/** A field of `signalInputSchema` a refusal can name, or `text` for a message that is no signal at all. */
export type TextSignalField =
  'text' | 'symbol' | 'market' | 'side' | 'entry' | 'stopLoss' | 'takeProfits' | 'leverage' | 'timeframe' | 'notes';

/**
 * Either a signal that `signalInputSchema` accepts (given a channel), with what was assumed along
 * the way, or at least one refusal: one sentence per field saying what is wrong and how to write it.
 */
export type TextSignalResult =
  | { ok: true; signal: ParsedTextSignal; warnings: string[] }
  | { ok: false; errors: Partial<Record<TextSignalField, string>> };

export interface TextSignalOptions {
  /** The market to use when the text neither names one nor has a symbol that tells it. */
  market?: Market;
}

/** Longer texts are refused unread: a signal is a few lines, and this bounds the work per message. */
export const TEXT_SIGNAL_MAX_CHARS = 10_000;

type Errors = Partial<Record<TextSignalField, string>>;
type PriceKind = 'entry' | 'stop' | 'tp';
type FieldKind = PriceKind | 'leverage' | 'timeframe';

const EXAMPLE = '`BTC/USDT LONG`, `Entry 64000`, `SL 63000`, `TP 65000 66000`';
const MESSAGES = {
  empty: `the message is empty: paste a signal such as ${EXAMPLE}`,
  notText: 'the message must be text',
  notSignal: `no signal found: a signal names a symbol and a side with an entry, a stop-loss and take-profits, e.g. ${EXAMPLE}`,
  symbol: 'no symbol found: write the pair first, e.g. `BTC/USDT LONG` or `Pair: EURUSD`',
  entry: 'no entry found: write e.g. `Entry 64000` or `Entry zone 63800-64200`',
  entryAtMarket: 'the entry is at market (CMP/now) with no price: write the price, e.g. `Entry 64000`',
  stopLoss: 'no stop-loss found: write e.g. `SL 63000`',
  stopInPips: 'the stop-loss is given in pips or points, not as a price: write the price, e.g. `SL 63000`',
  takeProfits: 'no take-profit found: write e.g. `TP 65000 66000`',
  targetsInPips: 'the take-profits are given in pips or points, not as prices: write the prices, e.g. `TP 65000 66000`',
  bothSides: 'the message says both buy and sell (long and short): keep one',
  noSide: 'no side written, and the prices do not tell it: write LONG or SHORT (or BUY or SELL)',
} as const;

const SIDE_WORDS: Readonly<Record<string, Side>> = { buy: 'buy', long: 'buy', sell: 'sell', short: 'sell' };

const MARKET_WORDS: Readonly<Record<string, Market>> = {
  crypto: 'crypto',
  cryptos: 'crypto',
  cryptocurrency: 'crypto',
  cryptocurrencies: 'crypto',
  forex: 'forex',
  fx: 'forex',
  currencies: 'forex',
  stocks: 'stocks',
  stock: 'stocks',
  equities: 'stocks',
  equity: 'stocks',
  shares: 'stocks',
  indices: 'indices',
  index: 'indices',
  indexes: 'indices',
  commodities: 'commodities',
  commodity: 'commodities',
  metals: 'commodities',
  other: 'other',
};

// Words that decorate a header line ("VIP SIGNAL", "Cross 20x", "BUY NOW") without being a symbol.
const FILLER = new Set(
  (
    'now at limit market cmp zone signal signals new setup trade trades trading position spot futures future perp ' +
    'perpetual swap scalp scalping swing intraday regular cross isolated margin mode order pending instant ' +
    'execution the a an for on in to of and or with from call idea alert update premium vip free hot breakout ' +
    'chart price usdt usd usdc busd pips pip points pts vs x my our today above below around near between'
  ).split(' '),
);
const KEYWORD_WORDS = new Set(
  (
    'entry entries enter stop loss stoploss sl tp tps target targets tgt tgts take profit profits leverage lev ' +
    'lever timeframe tf notes note'
  ).split(' '),
);
const TIMEFRAME_LIKE = /^(?:\d{1,3}(?:m|min|mins|h|hr|hrs|d|w)|[mhdw]\d{1,3}|daily|weekly|monthly|hourly)$/i;
const LEVERAGE_TOKEN = /^(?:\d+(?:\.\d+)?x|x\d+(?:\.\d+)?)$/i;

const CRYPTO_QUOTES = ['USDT', 'USDC', 'BUSD', 'FDUSD', 'TUSD'];
const FIAT = new Set(
  (
    'USD EUR GBP JPY CHF AUD NZD CAD SEK NOK DKK PLN HUF CZK TRY ZAR MXN SGD HKD CNH CNY RUB INR BRL KRW ILS THB ' +
    'IDR MYR PHP TWD VND AED SAR NGN UAH ARS CLP COP'
  ).split(' '),
);
const COINS = new Set(
  (
    'BTC ETH SOL XRP BNB ADA DOGE AVAX DOT LINK MATIC POL LTC TRX TON SHIB ARB OP ATOM NEAR APT SUI PEPE INJ FIL ' +
    'ETC BCH UNI AAVE XLM HBAR ICP SEI TIA WIF BONK FET RNDR RENDER STX IMX LDO MKR CRV ALGO XMR KAS JUP ENA'
  ).split(' '),
);
const METALS = ['XAU', 'XAG', 'XPT', 'XPD'];
const COMMODITIES = new Set(
  'GOLD SILVER OIL USOIL UKOIL WTI BRENT XTIUSD XBRUSD NGAS NATGAS COPPER PLATINUM'.split(' '),
);
const INDICES = new Set(
  (
    'SPX SPX500 SP500 US500 NAS100 NDX US100 USTEC US30 DJI DJ30 DOW DOW30 GER40 GER30 DAX DAX40 DE40 DE30 UK100 ' +
    'FTSE FTSE100 JP225 JPN225 NIKKEI NI225 HK50 HSI FRA40 CAC40 EU50 STOXX50 ESTX50 AUS200 VIX'
  ).split(' '),
);

// One alternation so that a line splits into segments at every keyword, in order.
const KEYWORD = new RegExp(
  String.raw`(?<![\p{L}\p{N}]|\p{L}-)(?:` +
    [
      String.raw`(?<tp>take[\s-]*profits?(?:[\s-]*targets?)?|profit[\s-]*targets?|targets?|tgts?|t\/?ps?)`,
      String.raw`(?<stop>stop[\s-]*loss(?:es)?|stop[\s-]*targets?|stop|s\/?l)`,
      String.raw`(?<entry>entry[\s-]*(?:zone|targets?|prices?|points?|range|area|levels?)|entries|entry|` +
        String.raw`enter(?:\s+(?:at|around|between|above|below|near))?|` +
        String.raw`(?:buy|sell)(?:ing)?[\s-]*(?:zone|at|around|between|range|area|from|limit|stop|near|above|below|price|now)|@)`,
      String.raw`(?<leverage>leverage|lever|lev)`,
      String.raw`(?<timeframe>time[\s-]*frame|tf)`,
    ].join('|') +
    String.raw`)(?![\p{L}])`,
  'giu',
);
const NOTES_PREFIX = /^[^\p{L}\p{N}]*notes[ \t]*[:：]/iu;
const TRAILING_BLOCK = /^trailing\b/i;
const PAIR_LABEL =
  /^(?:pair|symbol|coin|asset|ticker|instrument|currency\s+pair|token)\s*(?:[:=-]\s*|\s+(?=[#$]))(\S+)(.*)$/iu;
const SIDE_LABEL =
  /^(?:direction|side|position|signal\s*type|trade\s*type|order\s*type|type|action|bias|trade)\s*[:=-]\s*(.*)$/iu;
const MARKET_LABEL = /^(?:market|category|asset\s*class)\s*([:=-]?)\s*(\p{L}+)(.*)$/iu;
const AT_MARKET = /(?<![\p{L}])(?:cmp|market|now|current)(?![\p{L}])/iu;
const UNIT_WORDS = /(?<![\p{L}])(?:usdt|usdc|busd|usd|pips?|points?|pts?)(?![\p{L}])/giu;
// A number, optionally `x`-prefixed (leverage) or K/M-suffixed; never one glued to a word (US30, 1INCH).
const NUMBER =
  /(?<![\p{L}\p{N}._]|\d:)(x)?[$€£]?(\d{1,3}(?:,\d{3})+(?!\d|,\d)(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?:([km])(?![\p{L}\p{N}]))?/giu;
// Spaces around a slash only inside a pair, so `65000 / 66000` stays a list.
const SPACED_PAIR = /(?<![\p{L}\p{N}])([A-Za-z0-9]{2,12})(?: +\/ *| *\/ +)([A-Za-z]{3,5})(?![\p{L}\p{N}])/gu;

interface Candidate {
  symbol: string;
  score: number;
}

interface NumbersRead {
  prices: number[];
  leverages: number[];
  pips: boolean;
}

interface LineFacts {
  consumed: boolean;
  candidates: Candidate[];
  sides: Side[];
  markets: Market[];
  entries: number[];
  entryAtMarket: boolean;
  stops: number[];
  stopInPips: boolean;
  targets: number[];
  targetsInPips: boolean;
  leverages: number[];
  leverageRange: boolean;
  timeframe: string | undefined;
  /** `Buy 64000` / `Sell 65000 66000` with no symbol on the line: an entry, or Cornix's spot targets. */
  sidePrices: { side: Side; prices: number[] } | undefined;
  /** Number-only lines below continue this field (`Take-Profit Targets:` then `1) 65000`). */
  section: PriceKind | undefined;
  /** The section already has prices, so a blank line ends it. */
  sectionFilled: boolean;
  warnings: string[];
}

interface Reading extends Omit<
  LineFacts,
  'consumed' | 'sidePrices' | 'section' | 'sectionFilled' | 'timeframe' | 'candidates'
> {
  candidates: Array<Candidate & { order: number }>;
  timeframe: string | undefined;
  freeLines: string[];
  notesSection: string[] | undefined;
}

/**
 * Reads a text signal. Never throws. On success the signal is exactly what `signalInputSchema`
 * returns for it (symbol upper-cased, timeframe trimmed), without `channel`; optional fields are
 * absent rather than undefined. `warnings` says what was assumed (a side read from the prices, a
 * zone's midpoint, the default market, the first of several stops…). On refusal, `errors` has at
 * least one entry, keyed by the field it is about (`text` when the message is empty, too long or
 * no signal at all).
 */
export function parseTextSignal(text: string, options: TextSignalOptions = {}): TextSignalResult {
  if (typeof text !== 'string') return { ok: false, errors: { text: MESSAGES.notText } };
  if (text.length > TEXT_SIGNAL_MAX_CHARS) {
    return {
      ok: false,
      errors: { text: `the message is too long (${text.length} characters; at most ${TEXT_SIGNAL_MAX_CHARS})` },
    };
  }
  if (!/[\p{L}\p{N}]/u.test(text)) return { ok: false, errors: { text: MESSAGES.empty } };
  return decide(readMessage(text), options);
}

/**
 * The canonical text of a signal: `BUY BTCUSDT` (or `Pair:`/`Side:` lines when the symbol could be
 * taken for a keyword or a number), `Market:`, `Entry`, `SL`, `TP`, then `Leverage`, `Timeframe`
 * and `Notes:` when present. Numbers are written in full, without exponent or rounding. For every
 * signal `parseTextSignal` returns — and every schema-valid one whose timeframe is a keyword-free
 * phrase such as `4h` or `Daily` and whose notes are trimmed and free of carriage returns —
 * `parseTextSignal(formatTextSignal(s))` returns `s` again.
 */
export function formatTextSignal(signal: ParsedTextSignal): string {
  const side = signal.side === 'buy' ? 'BUY' : 'SELL';
  const lines = headerReadsBack(signal.symbol, signal.side)
    ? [`${side} ${signal.symbol}`]
    : [`Pair: ${signal.symbol}`, `Side: ${side}`];
  lines.push(
    `Market: ${signal.market}`,
    `Entry ${plainNumber(signal.entry)}`,
    `SL ${plainNumber(signal.stopLoss)}`,
    `TP ${signal.takeProfits.map(plainNumber).join(' ')}`,
  );
  if (signal.leverage !== undefined) lines.push(`Leverage ${plainNumber(signal.leverage)}x`);
  if (signal.timeframe) lines.push(`Timeframe ${signal.timeframe}`);
  // Everything after `Notes:` is notes, so words like "TP 70000" in them are never read as fields.
  if (signal.notes) lines.push(`Notes: ${signal.notes}`);
  return lines.join('\n');
}

function readMessage(text: string): Reading {
  const r: Reading = { ...noFields(), candidates: [], freeLines: [], notesSection: undefined };
  let section: PriceKind | undefined;
  let sectionFilled = false;
  let trailing = false;
  for (const raw of text.split(/\r\n|\r|\n/)) {
    if (r.notesSection) {
      r.notesSection.push(raw);
      continue;
    }
    if (raw.trim() === '') {
      trailing = false;
      if (sectionFilled) section = undefined;
      continue;
    }
    const notes = NOTES_PREFIX.exec(raw);
    if (notes) {
      r.notesSection = [raw.slice(notes[0].length)];
      continue;
    }
    if (trailing) {
      r.freeLines.push(raw.trim());
      continue;
    }
    const core = coreOf(raw);
    if (!/[\p{L}\p{N}]/u.test(core)) continue;
    // Cornix's trailing block ("Stop: Breakeven", "Trigger: Target (1)") describes orders, not prices.
    if (TRAILING_BLOCK.test(core)) {
      trailing = true;
      section = undefined;
      r.freeLines.push(raw.trim());
      continue;
    }
    const numbers = numberOnlyLine(core);
    if (numbers) {
      if (section) {
        addPrices(r, section, numbers);
        sectionFilled = true;
      } else r.freeLines.push(raw.trim());
      continue;
    }
    const facts = analyseLine(core);
    mergeFacts(r, facts);
    if (facts.consumed) {
      section = facts.section;
      sectionFilled = facts.sectionFilled;
    } else {
      section = undefined;
      r.freeLines.push(raw.trim());
    }
  }
  return r;
}

function mergeFacts(r: Reading, f: LineFacts): void {
  for (const c of f.candidates) r.candidates.push({ ...c, order: r.candidates.length });
  if (f.sidePrices) {
    // Cornix's spot signals list targets as "Sell 65000 66000" under a "Buy 64000".
    if (f.sidePrices.side === 'sell' && r.sides.includes('buy')) r.targets.push(...f.sidePrices.prices);
    else {
      r.sides.push(f.sidePrices.side);
      r.entries.push(...f.sidePrices.prices);
    }
  }
  r.sides.push(...f.sides);
  r.markets.push(...f.markets);
  r.entries.push(...f.entries);
  r.entryAtMarket ||= f.entryAtMarket;
  r.stops.push(...f.stops);
  r.stopInPips ||= f.stopInPips;
  r.targets.push(...f.targets);
  r.targetsInPips ||= f.targetsInPips;
  r.leverages.push(...f.leverages);
  r.leverageRange ||= f.leverageRange;
  r.timeframe ??= f.timeframe;
  r.warnings.push(...f.warnings);
}

function addPrices(r: Reading | LineFacts, kind: PriceKind, read: NumbersRead): void {
  if (kind === 'entry') r.entries.push(...read.prices);
  else if (kind === 'stop') {
    r.stops.push(...read.prices);
    r.stopInPips ||= read.pips;
  } else {
    r.targets.push(...read.prices);
    r.targetsInPips ||= read.pips;
  }
}

/** What a line and the whole message both collect, nothing yet. */
function noFields(): Omit<LineFacts, 'consumed' | 'candidates' | 'sidePrices' | 'section' | 'sectionFilled'> {
  return {
    sides: [],
    markets: [],
    entries: [],
    entryAtMarket: false,
    stops: [],
    stopInPips: false,
    targets: [],
    targetsInPips: false,
    leverages: [],
    leverageRange: false,
    timeframe: undefined,
    warnings: [],
  };
}

function newFacts(): LineFacts {
  return {
    ...noFields(),
    consumed: false,
    candidates: [],
    sidePrices: undefined,
    section: undefined,
    sectionFilled: false,
  };
}

/** The line as matched: odd Unicode folded to ASCII look-alikes, leading bullets and emojis gone. */
function coreOf(raw: string): string {
  return raw
    .replace(/(\d)\uFE0F?\u20E3/gu, '$1)') // keycap digits (1️⃣) number lists
    .replace(/[\u200B-\u200D\u2060\uFEFF]|\uFE0E|\uFE0F/gu, '') // zero-width joiners and emoji variation selectors
    .replace(/(\d)[\u2009\u202F](?=\d{3}(?!\d))/gu, '$1')
    .replace(/[\u00A0\u2000-\u200A\u202F\u205F\u3000\t]/gu, ' ')
    .replace(/[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]/gu, '-')
    .replace(/\uFF1A/gu, ':')
    .replace(SPACED_PAIR, (whole, base: string, quote: string) => {
      const q = quote.toUpperCase();
      return FIAT.has(q) || COINS.has(q) || CRYPTO_QUOTES.includes(q) ? `${base}/${quote}` : whole;
    })
    .replace(/^[^\p{L}\p{N}#$@(]+/u, '')
    .trimEnd();
}

function analyseLine(core: string): LineFacts {
  const f = newFacts();
  let rest = core;
  let labelled = false;
  const pair = PAIR_LABEL.exec(rest);
  const sideLabel = pair ? null : SIDE_LABEL.exec(rest);
  const marketLabel = pair || sideLabel ? null : MARKET_LABEL.exec(rest);
  if (pair) {
    const symbol = labelSymbol(pair[1] ?? '');
    if (symbol) f.candidates.push({ symbol, score: 100 });
    f.consumed = labelled = true;
    rest = pair[2] ?? '';
  } else if (sideLabel) {
    const value = sideLabel[1] ?? '';
    const end = firstKeywordIndex(value);
    const sides = tokensOf(value.slice(0, end)).flatMap((t) => {
      const side = SIDE_WORDS[bodyOf(t).toLowerCase()];
      return side ? [side] : [];
    });
    if (sides.length) {
      f.sides.push(...sides);
      f.consumed = labelled = true;
      rest = value.slice(end);
    }
  } else if (marketLabel) {
    const word = marketLabel[2] ?? '';
    const market = MARKET_WORDS[word.toLowerCase()];
    if (market) {
      f.markets.push(market);
      f.consumed = labelled = true;
      rest = marketLabel[3] ?? '';
    } else if (marketLabel[1]) {
      f.warnings.push(`"Market: ${word}" is not one of ${MARKETS.join(', ')}: it was ignored`);
      return f;
    }
  }

  const keys = [...rest.matchAll(KEYWORD)];
  const prefix = rest.slice(0, keys[0]?.index ?? rest.length);
  if (!labelled) readHeader(prefix, f, keys.length === 0);
  keys.forEach((key, i) => {
    const kind = kindOf(key);
    const start = (key.index ?? 0) + key[0].length;
    const args = rest.slice(start, keys[i + 1]?.index ?? rest.length);
    const atStart = i === 0 && !/[\p{L}\p{N}]/u.test(prefix);
    readField(kind, key[0].toLowerCase(), args, f, atStart && i === keys.length - 1);
  });
  return f;
}

function firstKeywordIndex(text: string): number {
  const first = [...text.matchAll(KEYWORD)][0];
  return first?.index ?? text.length;
}

function kindOf(match: RegExpMatchArray): FieldKind {
  const g = match.groups ?? {};
  if (g.tp !== undefined) return 'tp';
  if (g.stop !== undefined) return 'stop';
  if (g.entry !== undefined) return 'entry';
  if (g.leverage !== undefined) return 'leverage';
  return 'timeframe';
}

function readField(kind: FieldKind, keyword: string, args: string, f: LineFacts, mayOpenSection: boolean): void {
  if (kind === 'timeframe') {
    const value = args
      .replace(/^[^\p{L}\p{N}]+/u, '')
      .split(/[(,;|]/)[0]
      ?.replace(/[^\p{L}\p{N}]+$/u, '');
    if (value) {
      f.timeframe ??= value;
      f.consumed = true;
    }
    f.section = undefined;
    return;
  }
  if (kind === 'leverage') {
    // The first number in reading order, however written: 10x, x10, 20.0X, (20).
    const values = numberTokens(args, 'field')
      .filter((t) => t.kind === 'price' || t.kind === 'leverage' || t.kind === 'marker')
      .map((t) => t.value);
    const first = values[0];
    if (first !== undefined) {
      f.leverages.push(first);
      if (new Set(values).size > 1) f.leverageRange = true;
      f.consumed = true;
    }
    f.section = undefined;
    return;
  }
  const body = kind === 'stop' ? args : stripListMarker(args, kind, /\p{L}$/u.test(keyword));
  const read = readNumbers(body, 'field');
  let said = read.prices.length > 0 || read.pips || read.leverages.length > 0;
  f.leverages.push(...read.leverages);
  if (kind === 'entry') {
    const side = /^(buy|sell)/.exec(keyword)?.[1];
    if (side) {
      f.sides.push(SIDE_WORDS[side] ?? 'buy');
      said = true;
      // "BUY LIMIT AAPL 190": the symbol may follow a side keyword.
      const first = tokensOf(body)[0];
      const candidate = first ? symbolToken(first) : undefined;
      if (candidate) f.candidates.push({ symbol: candidate.symbol, score: candidate.strength + 35 });
    }
    if (AT_MARKET.test(keyword) || AT_MARKET.test(body)) {
      f.entryAtMarket = true;
      said = true;
    }
  } else if (kind === 'tp' && read.pips) f.targetsInPips = true;
  addPrices(f, kind, read);
  const opensSection = mayOpenSection && !/[\p{L}\p{N}]/u.test(body);
  if (said || opensSection) f.consumed = true;
  f.section = kind;
  f.sectionFilled = read.prices.length > 0;
}

/** `TP1 65000`, `Target 1: 65000`, `TP 1 - 65000`, `Entry 2) 63500`: the leading number is a list marker. */
function stripListMarker(args: string, kind: 'tp' | 'entry', afterWord: boolean): string {
  // Only digits glued to a word (TP1) are a marker; `@5` is a price.
  const attached = afterWord ? /^#?\d{1,2}(?!\d|[.,]\d)/.exec(args) : null;
  if (attached) return args.slice(attached[0].length);
  const spaced =
    kind === 'tp'
      ? /^\s*(?:#\s*)?(?:\d{1,2}(?!\d|[.,]\d)\s*(?:[:)=>→]|\.(?=\s))|\d\s+-\s)/u.exec(args)
      : /^\s*(?:#\s*)?\d{1,2}(?!\d|[.,]\d)\s*(?:[:)=>→]|\.(?=\s))/u.exec(args);
  return spaced ? args.slice(spaced[0].length) : args;
}

type TokenKind = 'price' | 'leverage' | 'pips' | 'percent' | 'marker' | 'other';

function readToken(text: string, m: RegExpMatchArray, mode: 'header' | 'field'): { kind: TokenKind; value: number } {
  const start = m.index ?? 0;
  const after = text.slice(start + m[0].length);
  const before = text.slice(0, start);
  const digits = m[2] ?? '';
  const suffix = m[3];
  const value = toNumber(digits, suffix);
  if (m[1]) return { kind: 'leverage', value };
  if (/^\s*%/u.test(after)) return { kind: 'percent', value };
  if (!suffix && /^[x×](?![\p{L}\p{N}])/iu.test(after)) return { kind: 'leverage', value };
  if (/^\s*(?:pips?|points?|pts?)(?![\p{L}])/iu.test(after)) return { kind: 'pips', value };
  if (/^\p{L}/u.test(after)) {
    return { kind: /^(?:usdt|usdc|usd|busd)(?![\p{L}])/iu.test(after) ? 'price' : 'other', value };
  }
  if (/^\d{1,2}$/.test(digits) && !suffix) {
    if (after.startsWith(')') || before.endsWith('#') || /^[.:]\s*[$€£]?\.?\d/u.test(after)) {
      return { kind: 'marker', value };
    }
  }
  // In a header "15m" is a timeframe far more often than fifteen million.
  if (mode === 'header' && suffix?.toLowerCase() === 'm') return { kind: 'other', value };
  return { kind: 'price', value };
}

function numberTokens(text: string, mode: 'header' | 'field'): Array<{ kind: TokenKind; value: number }> {
  return [...text.matchAll(NUMBER)].map((m) => readToken(text, m, mode));
}

function readNumbers(text: string, mode: 'header' | 'field'): NumbersRead {
  const read: NumbersRead = { prices: [], leverages: [], pips: false };
  for (const token of numberTokens(text, mode)) {
    if (token.kind === 'price') read.prices.push(token.value);
    else if (token.kind === 'leverage') read.leverages.push(token.value);
    else if (token.kind === 'pips') read.pips = true;
  }
  return read;
}

/** The prices of a line holding nothing but numbers, list markers, percentages and units, or null. */
function numberOnlyLine(core: string): NumbersRead | null {
  const rest = core.replace(NUMBER, ' ').replace(UNIT_WORDS, ' ');
  if (/[\p{L}\p{N}]/u.test(rest)) return null;
  const read = readNumbers(core, 'field');
  return read.prices.length || read.pips ? read : null;
}

function toNumber(digits: string, suffix: string | undefined): number {
  const plain = digits.replace(/,/g, '');
  if (!suffix) return Number(plain);
  // Shift the decimal point in the text, so 0.07k is 70 and not 70.00000000000001.
  const shift = suffix.toLowerCase() === 'k' ? 3 : 6;
  const [int = '', frac = ''] = plain.split('.');
  const padded = frac.padEnd(shift, '0');
  return Number(`${int || '0'}${padded.slice(0, shift)}.${padded.slice(shift) || '0'}`);
}

function tokensOf(text: string): string[] {
  return text.split(/[\s,;|]+/).filter((t) => t !== '');
}

/** A token without surrounding punctuation and emojis, keeping a leading `#`/`$`. */
function cleanToken(token: string): string {
  return token.replace(/^[^\p{L}\p{N}#$]+/u, '').replace(/[^\p{L}\p{N}%]+$/u, '');
}

function bodyOf(token: string): string {
  return cleanToken(token).replace(/^[#$]+/, '');
}

function isReserved(word: string): boolean {
  const w = word.toLowerCase();
  return (
    w in SIDE_WORDS ||
    w in MARKET_WORDS ||
    FILLER.has(w) ||
    KEYWORD_WORDS.has(w) ||
    TIMEFRAME_LIKE.test(w) ||
    LEVERAGE_TOKEN.test(w) ||
    /^[$€£]?[\d.,]+[km]?$/i.test(w)
  );
}

/** How much a token looks like a symbol: 50 for a pair (BTC/USDT), 40 for a known instrument, else 0. */
function symbolToken(token: string): { symbol: string; strength: number; tag: boolean } | undefined {
  const clean = cleanToken(token);
  const tag = /^[#$]/.test(clean);
  const body = clean.replace(/^[#$]+/, '');
  if (!/^[A-Za-z0-9][A-Za-z0-9._/:-]*$/.test(body) || !/[A-Za-z]/.test(body)) return undefined;
  if (body.length > LIMITS.symbolMaxChars || isReserved(body)) return undefined;
  const pair = /^([A-Za-z0-9]{1,20})[/:]([A-Za-z0-9]{2,20})(?:[._-][A-Za-z0-9]{1,8})?$/.exec(body);
  const isPair =
    pair !== null &&
    [pair[1] ?? '', pair[2] ?? ''].every(
      (p) => /[A-Za-z]/.test(p) && !(p.toLowerCase() in SIDE_WORDS) && !KEYWORD_WORDS.has(p.toLowerCase()),
    );
  const strength = isPair ? 50 : instrumentMarket(body) ? 40 : 0;
  return { symbol: body.toUpperCase(), strength, tag };
}

/** A `Pair:` value as written, less what the schema could never accept at its ends. */
function labelSymbol(value: string): string {
  return value.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9._/:-]+$/, '');
}

type HeaderToken =
  | { kind: 'side'; side: Side }
  | { kind: 'market'; market: Market; tag: boolean }
  | { kind: 'symbol'; symbol: string; strength: number; tag: boolean }
  | { kind: 'filler' | 'number' | 'word' };

function classifyToken(token: string): HeaderToken | undefined {
  const clean = cleanToken(token);
  if (!/[\p{L}\p{N}]/u.test(clean)) return undefined;
  const tag = /^[#$]/.test(clean);
  const lower = clean.replace(/^[#$]+/, '').toLowerCase();
  const side = SIDE_WORDS[lower];
  if (side) return { kind: 'side', side };
  const market = MARKET_WORDS[lower];
  if (market) return { kind: 'market', market, tag };
  if (LEVERAGE_TOKEN.test(lower) || /^[$€£]?[\d.,]+[km%]?(?:-[$€£]?[\d.,]+[km%]?)*$/i.test(lower)) {
    return { kind: 'number' };
  }
  if (FILLER.has(lower) || TIMEFRAME_LIKE.test(lower) || KEYWORD_WORDS.has(lower)) return { kind: 'filler' };
  const symbol = symbolToken(clean);
  if (symbol) return { kind: 'symbol', ...symbol };
  return { kind: 'word' };
}

/**
 * The part of a line before its first keyword. A header (a side, a symbol, a leverage, tags, at most
 * one word that could be a symbol) says all of that; any other text only lends a pair or a known
 * instrument, weighted below every header's, and stays in the notes.
 */
function readHeader(prefix: string, f: LineFacts, wholeLine: boolean): void {
  const tokens = tokensOf(prefix)
    .map(classifyToken)
    .filter((t): t is HeaderToken => t !== undefined);
  if (tokens.length === 0) return;
  const sides = tokens.flatMap((t) => (t.kind === 'side' ? [t.side] : []));
  const weak = (t: HeaderToken) => t.kind === 'word' || (t.kind === 'symbol' && t.strength === 0 && !t.tag);
  const unknown = tokens.filter(weak).length;
  const signalled = tokens.some((t) => t.kind === 'symbol' && (t.strength > 0 || t.tag));
  const lone = wholeLine && tokens.length === 1;
  const header = unknown <= 1 && (unknown === 0 || sides.length > 0 || signalled || lone);
  for (const t of tokens) if (t.kind === 'market' && (t.tag || (header && unknown === 0))) f.markets.push(t.market);
  if (!header) {
    for (const t of tokens) {
      if (t.kind === 'symbol' && t.strength > 0) {
        f.candidates.push({ symbol: t.symbol, score: t.strength + (t.tag ? 15 : 0) - 30 });
      }
    }
    return;
  }
  f.consumed = true;
  const anchors = tokens.filter((t) => t.kind !== 'filler');
  anchors.forEach((t, i) => {
    if (t.kind !== 'symbol') return;
    const nextToSide = anchors[i - 1]?.kind === 'side' || anchors[i + 1]?.kind === 'side';
    const score = t.strength + (t.tag ? 15 : 0) + (nextToSide ? 25 : 0) + (sides.length ? 10 : 0) + (lone ? 10 : 0);
    f.candidates.push({ symbol: t.symbol, score: Math.max(score, 5) });
  });
  const read = readNumbers(prefix, 'header');
  f.leverages.push(...read.leverages);
  const side = sides[0];
  if (side && read.prices.length && !tokens.some((t) => t.kind === 'symbol')) {
    f.sidePrices = { side, prices: read.prices };
    return;
  }
  f.sides.push(...sides);
  if (side) f.entries.push(...read.prices);
}

/** The market a symbol names on its own, when it is unambiguous. */
function instrumentMarket(symbol: string): Market | undefined {
  let s = symbol.toUpperCase();
  s = s.slice(s.lastIndexOf(':') + 1); // TradingView's EXCHANGE:SYMBOL
  if (/(?:\.P|[-_]?PERP|[-_]SWAP)$/.test(s)) return 'crypto';
  const c = s.replace(/\.[A-Z0-9]{1,4}$/, '').replace(/[/._-]/g, '');
  const bare = c.replace(/USD$/, '');
  if (COMMODITIES.has(c) || COMMODITIES.has(bare)) return 'commodities';
  if (METALS.some((m) => c.startsWith(m) && (c.length === 3 || FIAT.has(c.slice(3))))) return 'commodities';
  if (INDICES.has(c) || INDICES.has(bare)) return 'indices';
  if (CRYPTO_QUOTES.some((q) => c.endsWith(q) && c.length >= q.length + 2)) return 'crypto';
  if (c.length === 6 && FIAT.has(c.slice(0, 3)) && FIAT.has(c.slice(3))) return 'forex';
  if (COINS.has(c)) return 'crypto';
  for (const coin of COINS) {
    const quote = c.slice(coin.length);
    if (c.startsWith(coin) && (FIAT.has(quote) || COINS.has(quote))) return 'crypto';
  }
  return undefined;
}

function decide(r: Reading, options: TextSignalOptions): TextSignalResult {
  const warnings = [...r.warnings];
  const noPrices =
    !r.entries.length && !r.stops.length && !r.targets.length && !r.entryAtMarket && !r.stopInPips && !r.targetsInPips;
  if (noPrices && !r.sides.length) return { ok: false, errors: { text: MESSAGES.notSignal } };

  const errors: Errors = {};
  const symbol = pickSymbol(r, warnings);
  if (symbol === undefined) errors.symbol = MESSAGES.symbol;

  let entry: number | undefined;
  let zone: string | undefined;
  if (r.entries.length) {
    const low = r.entries.reduce((a, b) => Math.min(a, b));
    const high = r.entries.reduce((a, b) => Math.max(a, b));
    entry = low === high ? low : midpoint(low, high);
    if (low !== high) {
      zone = `Entry zone: ${plainNumber(low)} – ${plainNumber(high)}`;
      warnings.push(
        `entry zone ${plainNumber(low)} – ${plainNumber(high)}: its midpoint, ${plainNumber(entry)}, is the entry`,
      );
    }
  } else errors.entry = r.entryAtMarket ? MESSAGES.entryAtMarket : MESSAGES.entry;

  const stopLoss = r.stops[0];
  if (stopLoss === undefined) errors.stopLoss = r.stopInPips ? MESSAGES.stopInPips : MESSAGES.stopLoss;
  else if (new Set(r.stops).size > 1) {
    warnings.push(
      `several stop-losses (${r.stops.map(plainNumber).join(', ')}): the first, ${plainNumber(stopLoss)}, is used`,
    );
  }
  if (!r.targets.length) errors.takeProfits = r.targetsInPips ? MESSAGES.targetsInPips : MESSAGES.takeProfits;

  const side = pickSide(r, entry, stopLoss, errors, warnings);
  const market = pickMarket(r, symbol, options, errors, warnings);

  const leverage = r.leverages[0];
  if (leverage !== undefined && (r.leverageRange || new Set(r.leverages).size > 1)) {
    warnings.push(`several leverages given: the first, ${plainNumber(leverage)}x, is used`);
  }
  const notes = composeNotes(r, zone, warnings);

  const candidate: Record<string, unknown> = {
    channel: 'text-signal',
    symbol,
    market,
    side,
    entry,
    stopLoss,
    takeProfits: r.targets.length ? r.targets : undefined,
  };
  if (leverage !== undefined) candidate.leverage = leverage;
  if (r.timeframe !== undefined) candidate.timeframe = r.timeframe;
  if (notes) candidate.notes = notes;
  const missing = new Set(Object.keys(candidate).filter((k) => candidate[k] === undefined));
  const parsed = signalInputSchema.safeParse(candidate);
  for (const [key, message] of Object.entries(fieldErrors(parsed.error))) {
    const [field, sentence] = describeIssue(key, message, candidate);
    if (!missing.has(field)) errors[field] ??= sentence;
  }
  if (Object.keys(errors).length || !parsed.success) {
    return { ok: false, errors: Object.keys(errors).length ? errors : { text: MESSAGES.notSignal } };
  }
  const { channel: _channel, source: _source, idempotencyKey: _key, ...signal } = parsed.data;
  return { ok: true, signal, warnings };
}

function pickSymbol(r: Reading, warnings: string[]): string | undefined {
  const best = new Map<string, { score: number; order: number }>();
  for (const c of r.candidates) {
    const seen = best.get(c.symbol);
    if (!seen || c.score > seen.score) best.set(c.symbol, { score: c.score, order: seen?.order ?? c.order });
  }
  const ranked = [...best].sort(([, a], [, b]) => b.score - a.score || a.order - b.order);
  const [first, second] = ranked;
  if (!first) return undefined;
  if (second && second[1].score === first[1].score) {
    warnings.push(`several symbols (${ranked.map(([s]) => s).join(', ')}): ${first[0]} is used`);
  }
  return first[0];
}

function pickSide(
  r: Reading,
  entry: number | undefined,
  stopLoss: number | undefined,
  errors: Errors,
  warnings: string[],
): Side | undefined {
  const written = [...new Set(r.sides)];
  if (written.length > 1) {
    errors.side = MESSAGES.bothSides;
    return undefined;
  }
  if (written[0]) return written[0];
  if (entry === undefined || stopLoss === undefined || !r.targets.length) return undefined;
  if (stopLoss < entry && r.targets.every((tp) => tp > entry)) {
    warnings.push('no side written: buy, as the stop is below the entry and the targets above');
    return 'buy';
  }
  if (stopLoss > entry && r.targets.every((tp) => tp < entry)) {
    warnings.push('no side written: sell, as the stop is above the entry and the targets below');
    return 'sell';
  }
  errors.side = MESSAGES.noSide;
  return undefined;
}

function pickMarket(
  r: Reading,
  symbol: string | undefined,
  options: TextSignalOptions,
  errors: Errors,
  warnings: string[],
): Market | undefined {
  const written = [...new Set(r.markets)];
  if (written[0]) {
    if (written.length > 1) warnings.push(`several markets (${written.join(', ')}): ${written[0]} is used`);
    return written[0];
  }
  if (symbol === undefined) return undefined;
  const told = instrumentMarket(symbol);
  if (told) return told;
  if (options.market) {
    warnings.push(`no market written, and ${symbol} does not tell it: the default, ${options.market}, is used`);
    return options.market;
  }
  errors.market =
    `the market of ${symbol} cannot be told from the symbol: add a line such as \`Market: stocks\` ` +
    `or a tag such as \`#stocks\` (one of ${MARKETS.join(', ')})`;
  return undefined;
}

function composeNotes(r: Reading, zone: string | undefined, warnings: string[]): string | undefined {
  const section = r.notesSection?.join('\n').trim();
  const text = [zone, ...r.freeLines, section]
    .filter((part): part is string => !!part)
    .join('\n')
    .trim();
  if (!text) return undefined;
  if (text.length <= LIMITS.notesMaxChars) return text;
  warnings.push(`the notes were cut to ${LIMITS.notesMaxChars} characters`);
  let cut = text.slice(0, LIMITS.notesMaxChars);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1); // never half an emoji
  return cut.trimEnd();
}

/** A schema message as a sentence about the field, with the value it was about. */
function describeIssue(key: string, message: string, candidate: Record<string, unknown>): [TextSignalField, string] {
  const [field = '', index] = key.split('.');
  const show = (value: unknown) => (typeof value === 'number' ? plainNumber(value) : JSON.stringify(value));
  const entryNote = /the entry/.test(message) ? ` (entry ${show(candidate.entry)})` : '';
  switch (field) {
    case 'symbol':
      return ['symbol', `the symbol ${show(candidate.symbol)} ${message}`];
    case 'entry':
      return ['entry', `the entry ${show(candidate.entry)} ${message}`];
    case 'stopLoss':
      return ['stopLoss', `the stop-loss ${show(candidate.stopLoss)} ${message}${entryNote}`];
    case 'takeProfits': {
      const targets = Array.isArray(candidate.takeProfits) ? (candidate.takeProfits as unknown[]) : [];
      if (index === undefined) return ['takeProfits', `a signal ${message} (this one has ${targets.length})`];
      const i = Number(index);
      return ['takeProfits', `take-profit ${i + 1} (${show(targets[i])}) ${message}${entryNote}`];
    }
    case 'leverage':
      return ['leverage', `the leverage ${show(candidate.leverage)}x ${message}`];
    case 'timeframe':
      return ['timeframe', `the timeframe ${show(candidate.timeframe)} ${message}`];
    case 'market':
    case 'side':
    case 'notes':
      return [field, `the ${field} ${message}`];
    default:
      return ['text', message];
  }
}

/** The midpoint, rounded one place finer than the finer bound, so 63800–64200 gives 64000 and 1.085–1.087 1.086. */
function midpoint(low: number, high: number): number {
  const places = Math.min(100, Math.max(decimalsOf(low), decimalsOf(high)) + 1);
  return Number((low / 2 + high / 2).toFixed(places));
}

function decimalsOf(n: number): number {
  return plainNumber(n).split('.')[1]?.length ?? 0;
}

/** A number in positional notation: the shortest digits that read back as the same double, no exponent. */
export function plainNumber(n: number): string {
  const text = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  const digits = int + frac;
  const point = int.length + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Whether `BUY <symbol>` reads back as exactly that symbol and side, and nothing else. */
function headerReadsBack(symbol: string, side: Side): boolean {
  const f = analyseLine(coreOf(`${side === 'buy' ? 'BUY' : 'SELL'} ${symbol}`));
  const top = [...f.candidates].sort((a, b) => b.score - a.score)[0];
  return (
    top?.symbol === symbol &&
    f.candidates.every((c) => c.symbol === symbol || c.score < top.score) &&
    f.sides.length === 1 &&
    f.sides[0] === side &&
    !f.entries.length &&
    !f.sidePrices &&
    !f.leverages.length &&
    !f.markets.length &&
    !f.entryAtMarket &&
    f.timeframe === undefined
  );
}
