import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LIMITS } from './limits.js';
import { MARKETS, signalInputSchema, type Market, type Side } from './schemas.js';
import {
  formatTextSignal,
  parseTextSignal,
  TEXT_SIGNAL_MAX_CHARS,
  type ParsedTextSignal,
  type TextSignalField,
  type TextSignalResult,
} from './text-signal.js';

const FIELDS: readonly TextSignalField[] = [
  'text',
  'symbol',
  'market',
  'side',
  'entry',
  'stopLoss',
  'takeProfits',
  'leverage',
  'timeframe',
  'notes',
];

interface CorpusEntry {
  name: string;
  /** One string, or its lines (joined with "\n"). */
  text: string | string[];
  options?: { market?: Market };
  expect?: ParsedTextSignal;
  refuse?: TextSignalField[];
}

const corpus = JSON.parse(
  readFileSync(new URL('../test/fixtures/text-signals.json', import.meta.url), 'utf8'),
) as CorpusEntry[];

const textOf = (entry: CorpusEntry) => (Array.isArray(entry.text) ? entry.text.join('\n') : entry.text);

function accepted(result: TextSignalResult): ParsedTextSignal {
  if (!result.ok) assert.fail(`refused: ${JSON.stringify(result.errors)}`);
  return result.signal;
}

function refused(result: TextSignalResult): Partial<Record<TextSignalField, string>> {
  if (result.ok) assert.fail(`accepted: ${JSON.stringify(result.signal)}`);
  return result.errors;
}

const lines = (...text: string[]) => text.join('\n');

describe('the corpus', () => {
  test('holds at least 45 messages, at least 10 of them refused, each with one expectation', () => {
    assert.ok(corpus.length >= 45, `${corpus.length} messages`);
    assert.ok(corpus.filter((e) => e.refuse).length >= 10);
    assert.equal(new Set(corpus.map((e) => e.name)).size, corpus.length, 'names are unique');
    for (const entry of corpus) assert.ok(!entry.expect !== !entry.refuse, entry.name);
  });

  for (const entry of corpus) {
    test(entry.name, () => {
      const result = parseTextSignal(textOf(entry), entry.options);
      if (entry.expect) {
        assert.deepEqual(accepted(result), entry.expect);
        assert.ok(
          signalInputSchema.safeParse({ ...entry.expect, channel: 'corpus' }).success,
          'the expectation is valid',
        );
      } else {
        const errors = refused(result);
        assert.deepEqual(Object.keys(errors).sort(), [...(entry.refuse ?? [])].sort(), JSON.stringify(errors));
      }
    });
  }
});

describe('numbers', () => {
  const tps = (tp: string) => parseTextSignal(lines('BTC/USDT LONG', 'Entry 1000', 'SL 900', `TP ${tp}`));

  test('a comma before exactly three digits groups thousands; with a space after it, it separates', () => {
    assert.deepEqual(accepted(tps('1,100 1,234,567.5')).takeProfits, [1100, 1234567.5]);
    assert.deepEqual(accepted(tps('1100, 1200,1300')).takeProfits, [1100, 1200, 1300]);
    assert.deepEqual(accepted(tps('1100,1200')).takeProfits, [1100, 1200]);
  });

  test('K and M are thousands and millions, computed without binary noise', () => {
    assert.deepEqual(accepted(tps('1.5k 30K 2M 1.07k')).takeProfits, [1500, 30000, 2000000, 1070]);
  });

  test('a plain space never groups thousands; a narrow no-break space does', () => {
    assert.deepEqual(accepted(tps('1\u202f100 2\u2009500')).takeProfits, [1100, 2500]);
    const errors = refused(tps('1 100'));
    assert.deepEqual(Object.keys(errors), ['takeProfits']);
    assert.match(errors.takeProfits ?? '', /take-profit 1 \(1\) must be above the entry/);
  });

  test('percentages, pips, ordinals and list markers are not prices', () => {
    const signal = accepted(
      parseTextSignal(
        lines('EURUSD BUY 1.0850', 'SL 1.0820 (-30 pips)', 'TP1 1.0900 (+0.46%)', '2) 1.0950', 'Target #3 1.1000'),
      ),
    );
    assert.equal(signal.stopLoss, 1.082);
    assert.deepEqual(signal.takeProfits, [1.09, 1.095, 1.1]);
  });
});

describe('entry zones', () => {
  const entryOf = (zone: string) =>
    parseTextSignal(lines('BTC/USDT LONG', `Entry zone ${zone}`, 'SL 0.00001', 'TP 1000000'));
  const midpoint = (zone: string, low: number, high: number) => {
    const result = parseTextSignal(lines('#XYZUSDT LONG', `Entry zone ${zone}`, `SL ${low / 2}`, `TP ${high * 2}`));
    return accepted(result);
  };

  test('the midpoint is rounded one place finer than the finer bound', () => {
    assert.equal(midpoint('63800-64200', 63800, 64200).entry, 64000);
    assert.equal(midpoint('1.0850 – 1.0870', 1.085, 1.087).entry, 1.086);
    assert.equal(midpoint('100-101', 100, 101).entry, 100.5);
    assert.equal(midpoint('0.00012-0.00013', 0.00012, 0.00013).entry, 0.000125);
    assert.equal(midpoint('0.1-0.2', 0.1, 0.2).entry, 0.15);
  });

  test('the zone is noted first, and a warning says the midpoint is the entry', () => {
    const result = parseTextSignal(lines('BTC/USDT LONG', 'Entry: 64200 - 63800', 'SL 63000', 'TP 65000', 'Good luck'));
    assert.equal(accepted(result).notes, 'Entry zone: 63800 – 64200\nGood luck');
    assert.ok(result.ok && result.warnings.some((w) => w.includes('midpoint, 64000')));
    assert.equal(entryOf('5-5').ok, true, 'a zone of one price is that price');
  });
});

describe('reading', () => {
  test('Windows line endings, tabs and blank lines change nothing', () => {
    const text = lines('BTC/USDT LONG', '', 'Entry\t64000', '', 'SL 63000', 'TP 65000 66000', 'Hold tight');
    assert.deepEqual(parseTextSignal(text.replace(/\n/g, '\r\n')), parseTextSignal(text));
    assert.equal(accepted(parseTextSignal(text)).notes, 'Hold tight');
  });

  test('everything after `Notes:` is notes, even lines that look like fields', () => {
    const signal = accepted(
      parseTextSignal(lines('BUY ETHUSDT', 'Entry 3000', 'SL 2900', 'TP 3100', 'Notes: TP 9999 is a dream', 'SL 1')),
    );
    assert.deepEqual(signal.takeProfits, [3100]);
    assert.equal(signal.stopLoss, 2900);
    assert.equal(signal.notes, 'TP 9999 is a dream\nSL 1');
  });

  test('a side word in chatter is not a side', () => {
    const result = parseTextSignal(
      lines('BTC/USDT', 'Entry 64000', 'SL 63000', 'TP 65000', 'Never short a bull market, folks'),
    );
    assert.equal(accepted(result).side, 'buy');
    assert.ok(result.ok && result.warnings.some((w) => w.startsWith('no side written')));
  });

  test('a written market wins over the symbol, and the default is used only when nothing tells it', () => {
    const text = lines('BUY COCOA', 'Entry 7450', 'SL 7300', 'TP 7800');
    assert.deepEqual(Object.keys(refused(parseTextSignal(text))), ['market']);
    assert.equal(accepted(parseTextSignal(`${text}\n#commodities`, { market: 'stocks' })).market, 'commodities');
    const defaulted = parseTextSignal(text, { market: 'commodities' });
    assert.equal(accepted(defaulted).market, 'commodities');
    assert.ok(defaulted.ok && defaulted.warnings.some((w) => w.includes('the default, commodities')));
    assert.equal(
      accepted(parseTextSignal(lines('BUY BTCUSDT', 'Entry 2', 'SL 1', 'TP 3'), { market: 'stocks' })).market,
      'crypto',
    );
  });

  test('number-only lines continue the field above them until a blank line ends it', () => {
    const signal = accepted(
      parseTextSignal(lines('BTC/USDT LONG', 'Entry 64000', 'SL 63000', 'Targets:', '', '65000', '66000', '', '70000')),
    );
    assert.deepEqual(signal.takeProfits, [65000, 66000]);
    assert.equal(signal.notes, '70000');
    assert.deepEqual(
      accepted(parseTextSignal(lines('BUY BTCUSDT', 'Entry 2', 'SL 1', 'TP 3', '', '4'))).takeProfits,
      [3],
    );
  });

  test('an unknown `Market:` value is ignored with a warning, and the symbol still tells the market', () => {
    const result = parseTextSignal(lines('BTC/USDT LONG', 'Market: Futures', 'Entry 64000', 'SL 63000', 'TP 65000'));
    assert.equal(accepted(result).market, 'crypto');
    assert.equal(accepted(result).notes, 'Market: Futures');
    assert.ok(result.ok && result.warnings.some((w) => w.includes('"Market: Futures" is not one of')));
  });

  test('of several stops the first is used, with a warning', () => {
    const result = parseTextSignal(
      lines('BTC/USDT LONG', 'Entry 64000', 'Stop Targets: 1) 63000 2) 62000', 'TP 65000'),
    );
    assert.equal(accepted(result).stopLoss, 63000);
    assert.ok(result.ok && result.warnings.some((w) => w.startsWith('several stop-losses')));
  });

  test('notes longer than the schema allows are cut, with a warning', () => {
    const long = 'x'.repeat(LIMITS.notesMaxChars + 50);
    const result = parseTextSignal(lines('BUY BTCUSDT', 'Entry 2', 'SL 1', 'TP 3', `Notes: ${long}`));
    assert.equal(accepted(result).notes?.length, LIMITS.notesMaxChars);
    assert.ok(result.ok && result.warnings.some((w) => w.includes('cut')));
  });
});

describe('refusals', () => {
  test('say what is missing and how to write it', () => {
    assert.deepEqual(refused(parseTextSignal(lines('BTC/USDT LONG', 'Entry 64000', 'TP 65000'))), {
      stopLoss: 'no stop-loss found: write e.g. `SL 63000`',
    });
  });

  test('use the schema’s own words, with the values they are about', () => {
    assert.deepEqual(refused(parseTextSignal(lines('BTC/USDT LONG', 'Entry 64000', 'SL 65000', 'TP 63000'))), {
      stopLoss: 'the stop-loss 65000 must be below the entry for a buy (entry 64000)',
      takeProfits: 'take-profit 1 (63000) must be above the entry for a buy (entry 64000)',
    });
    assert.deepEqual(refused(parseTextSignal('BUY BTCUSDT Entry 2 SL 1 TP 3 4 5 6 7 8')), {
      takeProfits: `a signal allows at most ${LIMITS.takeProfitsMax} take-profits (this one has 6)`,
    });
  });

  test('an empty, overlong or non-text message is refused on `text`', () => {
    assert.deepEqual(Object.keys(refused(parseTextSignal(' \n\t\n'))), ['text']);
    assert.deepEqual(Object.keys(refused(parseTextSignal('BUY BTCUSDT '.repeat(TEXT_SIGNAL_MAX_CHARS)))), ['text']);
    assert.deepEqual(Object.keys(refused(parseTextSignal(42 as unknown as string))), ['text']);
  });
});

describe('formatting', () => {
  const signal: ParsedTextSignal = {
    symbol: 'BTC/USDT',
    market: 'crypto',
    side: 'buy',
    entry: 64000,
    stopLoss: 63000,
    takeProfits: [65000, 66000],
    leverage: 10,
    timeframe: '4h',
    notes: 'Move SL to entry after TP1',
  };

  test('writes the canonical text', () => {
    assert.equal(
      formatTextSignal(signal),
      lines(
        'BUY BTC/USDT',
        'Market: crypto',
        'Entry 64000',
        'SL 63000',
        'TP 65000 66000',
        'Leverage 10x',
        'Timeframe 4h',
        'Notes: Move SL to entry after TP1',
      ),
    );
  });

  test('names the pair on its own line when `BUY <symbol>` would read otherwise', () => {
    for (const symbol of ['SL', 'TP1', 'LONG', '7203', '30K', '10X', 'NOW', 'A.']) {
      const text = formatTextSignal({ ...signal, symbol });
      assert.ok(text.startsWith(`Pair: ${symbol}\nSide: BUY\n`), text);
      assert.deepEqual(accepted(parseTextSignal(text)), { ...signal, symbol });
    }
  });

  test('writes numbers in full, without exponent, so that they read back exactly', () => {
    const tiny = { ...signal, side: 'sell' as const, entry: 1e-7, stopLoss: 2.5e-7, takeProfits: [5e-8, 1.2345e-9] };
    assert.match(formatTextSignal(tiny), /^Entry 0\.0000001$/m);
    assert.match(formatTextSignal(tiny), /^TP 0\.00000005 0\.0000000012345$/m);
    assert.deepEqual(accepted(parseTextSignal(formatTextSignal(tiny))), tiny);
    const huge = { ...signal, entry: 1e21, stopLoss: 9e20, takeProfits: [1.5e21] };
    assert.match(formatTextSignal(huge), /^TP 1500000000000000000000$/m);
    const noisy = { ...signal, entry: 0.1 + 0.2, stopLoss: 0.1, takeProfits: [1 / 3] };
    assert.deepEqual(accepted(parseTextSignal(formatTextSignal(noisy))), noisy);
  });
});

describe('properties', () => {
  const decimalPrice = fc
    .tuple(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 4 }))
    .map(([digits, places]) => digits / 10 ** places);
  const price = fc.oneof(decimalPrice, fc.double({ min: 1e-4, max: 1e7, noNaN: true }));
  const symbol = fc.oneof(
    fc.constantFrom('BTCUSDT', 'BTC/USDT', 'EURUSD', 'GBP/JPY', 'XAUUSD', 'US30', 'AAPL', 'SOLUSDT.P', '1000PEPEUSDT'),
    fc.stringMatching(/^[A-Z0-9][A-Z0-9._/:-]{0,31}$/),
  );
  const notes = fc
    .oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
      fc.string({ minLength: 1, maxLength: 200 }),
      fc.constantFrom('TP 70000 then trail', 'Move SL to entry after TP1\nEntry zone: 1 – 2', 'Notes: nested', 'LONG'),
    )
    .map((text) => text.replace(/\r/g, '').trim())
    .filter((text) => text.length > 0);

  /** Signals `signalInputSchema` accepts: stop and targets on the right side of the entry. */
  const signals: fc.Arbitrary<ParsedTextSignal> = fc
    .record({
      symbol,
      market: fc.constantFrom(...MARKETS),
      side: fc.constantFrom<Side>('buy', 'sell'),
      entry: price,
      stopGap: fc.integer({ min: 1, max: 900 }),
      targetGaps: fc.uniqueArray(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: LIMITS.takeProfitsMax }),
      leverage: fc.option(fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constantFrom(1.5, 12.5, 33.3)), {
        nil: undefined,
      }),
      timeframe: fc.option(fc.constantFrom('1m', '15m', '1h', '4H', 'H4', '1D', 'D1', '1W', 'Daily', 'Swing'), {
        nil: undefined,
      }),
      notes: fc.option(notes, { nil: undefined }),
    })
    .map(({ stopGap, targetGaps, leverage, timeframe, notes, ...s }) => {
      const away = (gap: number, up: boolean) => s.entry * (up ? 1 + gap / 1000 : 1 - gap / 1000);
      return {
        ...s,
        stopLoss: away(stopGap, s.side === 'sell'),
        takeProfits: targetGaps.map((gap) => away(gap, s.side === 'buy')),
        ...(leverage === undefined ? {} : { leverage }),
        ...(timeframe === undefined ? {} : { timeframe }),
        ...(notes === undefined ? {} : { notes }),
      };
    })
    .filter((s) => signalInputSchema.safeParse({ ...s, channel: 'prop' }).success);

  test('format → parse returns the same signal, whatever the line endings', () => {
    fc.assert(
      fc.property(signals, fc.boolean(), (s, crlf) => {
        const text = formatTextSignal(s);
        assert.deepEqual(accepted(parseTextSignal(crlf ? text.replace(/\n/g, '\r\n') : text)), s);
      }),
      { numRuns: 400 },
    );
  });

  const vocabulary = fc.constantFrom(
    'BTC/USDT',
    'eurusd',
    '#AAPL',
    'LONG',
    'short',
    'Buy',
    'SELL',
    'Entry',
    'Entry zone',
    'SL',
    'Stop-loss:',
    'TP',
    'TP1',
    'Targets:',
    'Take-Profit Targets:',
    'Leverage',
    'Lev',
    '10x',
    'x5000',
    'TF:',
    '4h',
    '1)',
    '2)',
    '64000',
    '63,000',
    '1.5k',
    '2M',
    '0',
    '0.000',
    '1e5',
    '9'.repeat(400),
    `0.${'0'.repeat(400)}1`,
    '%',
    'pips',
    '@',
    'CMP',
    '#forex',
    'Market:',
    'stocks',
    'Pair:',
    'Direction:',
    'Notes:',
    'Trailing',
    '📈',
    '1️⃣',
    '-',
    '/',
    ':',
    '\n',
    '\r\n',
    '',
  );
  const signalish = fc.array(vocabulary, { maxLength: 60 }).map((words) => words.join(' '));

  test('never throws: any text gives a schema-valid signal that re-reads the same, or named refusals', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 3000 }),
          fc.string({ maxLength: 3000 }),
          signalish,
          signalish.map((text) => `${text}\nSL 1\nTP 3\nEntry 2`),
        ),
        fc.option(fc.constantFrom(...MARKETS), { nil: undefined }),
        (text, market) => {
          const result = parseTextSignal(text, { market });
          if (result.ok) {
            assert.ok(signalInputSchema.safeParse({ ...result.signal, channel: 'prop' }).success);
            assert.deepEqual(accepted(parseTextSignal(formatTextSignal(result.signal))), result.signal);
          } else {
            const entries = Object.entries(result.errors);
            assert.ok(entries.length > 0);
            for (const [field, message] of entries) {
              assert.ok(FIELDS.includes(field as TextSignalField), field);
              assert.ok(typeof message === 'string' && message.length > 0);
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  test('noise around a signal (emojis, tags, greetings) changes nothing but the notes', () => {
    const noise = fc.constantFrom(
      '🚀🚀🚀',
      '⚡️⚡️ VIP SIGNAL ⚡️⚡️',
      '#signal',
      '#vip #premium',
      'Good luck!',
      'Trade safe 🙏',
      '━━━━━━━━',
      '',
    );
    fc.assert(
      fc.property(
        signals,
        fc.array(noise, { maxLength: 4 }),
        fc.array(noise, { maxLength: 4 }),
        fc.constantFrom('\n', '\r\n'),
        (s, before, after, eol) => {
          const text = [...before, formatTextSignal(s), ...after].join(eol);
          const { notes: _parsedNotes, ...parsed } = accepted(parseTextSignal(text));
          const { notes: _notes, ...expected } = s;
          assert.deepEqual(parsed, expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
