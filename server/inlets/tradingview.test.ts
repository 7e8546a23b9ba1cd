/**
 * TradingView alert bodies as TradingView renders them — strategy alerts, indicator alerts,
 * text, numbers as strings — read into signals and closes, and bad bodies refused under the
 * key their author wrote. Every accepted reading is checked against the API's own schema.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signalInputSchema, signalUpdateInputSchema } from '../../shared/schemas.js';
import { TRADINGVIEW_TEMPLATES } from '../../shared/sources.js';
import { addressAllowed } from './source-inlet.js';
import { readAlert, readWebhookBody, type AlertRead, type SourceDefaults } from './tradingview.js';

const defaults: SourceDefaults = { channel: 'alerts', market: 'crypto', label: 'TV strategy' };

/** Reads a body as it arrives: JSON objects as application/json, strings as text/plain. */
function read(body: unknown, source: Partial<SourceDefaults> = {}, contentType?: string): AlertRead {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const type = contentType ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json');
  const parsed = readWebhookBody(raw, type);
  assert.ok(parsed.ok, `body not read: ${JSON.stringify(parsed)}`);
  return readAlert(parsed.body, { ...defaults, ...source });
}

function published(result: AlertRead) {
  assert.ok(result.ok && result.kind === 'publish', JSON.stringify(result));
  assert.ok(signalInputSchema.safeParse(result.input).success, 'the API schema accepts it');
  return result;
}

function closing(result: AlertRead) {
  assert.ok(result.ok && result.kind === 'close', JSON.stringify(result));
  assert.ok(signalUpdateInputSchema.safeParse(result.update).success);
  return result;
}

function refused(result: AlertRead): Record<string, string> {
  assert.ok(!result.ok, `expected a refusal: ${JSON.stringify(result)}`);
  return result.reasons;
}

/** A template with its placeholders filled in, as TradingView sends it. */
function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([^}]+)\}\}/g, (whole, name: string) => values[name] ?? whole);
}

describe('TradingView strategy alerts', () => {
  const fill = (values: Record<string, string>) =>
    render(TRADINGVIEW_TEMPLATES.strategy, {
      ticker: 'BTCUSDT',
      'strategy.order.price': '64000.5',
      'plot("Stop")': '63000',
      'plot("Target 1")': '65000',
      'plot("Target 2")': '66500.25',
      interval: '240',
      'strategy.order.id': 'Long',
      timenow: '2026-03-02T10:15:00Z',
      ...values,
    });

  test('the template, rendered for an entry, is a buy with its stop and targets', () => {
    const raw = fill({ 'strategy.order.action': 'buy', 'strategy.market_position': 'long' });
    const result = published(read(JSON.parse(raw)));
    assert.deepEqual(result.input, {
      channel: 'alerts',
      symbol: 'BTCUSDT',
      market: 'crypto',
      side: 'buy',
      entry: 64000.5,
      stopLoss: 63000,
      takeProfits: [65000, 66500.25],
      timeframe: '4h',
      source: 'TV strategy',
    });
    assert.equal(result.alertId, 'BTCUSDT-Long-2026-03-02T10:15:00Z');
  });

  test('an order that leaves the strategy flat closes the position it ends, at the order price', () => {
    const raw = fill({
      'strategy.order.action': 'sell',
      'strategy.market_position': 'flat',
      'strategy.order.id': 'Long Exit',
      'plot("Stop")': 'NaN',
    });
    const result = closing(read(JSON.parse(raw)));
    assert.equal(result.symbol, 'BTCUSDT');
    assert.equal(result.side, 'buy', 'a sell that ends flat ends a long');
    assert.deepEqual(result.update, { type: 'closed', price: 64000.5 });
    assert.equal(result.alertId, 'BTCUSDT-Long Exit-2026-03-02T10:15:00Z');
  });

  test('a reversal (sell, now short) is a new sell; a sell that leaves it long is refused', () => {
    const reversal = read({
      ticker: 'BTCUSDT',
      action: 'sell',
      marketPosition: 'short',
      price: '64000',
      sl: '65000',
      tp: '63000',
    });
    assert.equal(published(reversal).input.side, 'sell');
    const partial = refused(read({ ticker: 'BTCUSDT', action: 'sell', marketPosition: 'long', price: '64000' }));
    assert.deepEqual(Object.keys(partial), ['action']);
    assert.match(partial.action!, /only reduces it/);
    assert.match(
      refused(read({ ...reversalBody(), marketPosition: 'sideways' })).marketPosition!,
      /long, short or flat/,
    );
  });

  test('close-style actions, with and without a side', () => {
    const close = (action: string) => closing(read({ ticker: 'ETHUSDT', action, price: '3000' }));
    for (const action of ['close', 'exit', 'flat', 'Close All', 'close_position'])
      assert.equal(close(action).side, null);
    for (const action of ['close long', 'Exit-Long', 'long exit', 'sell to close', 'closelong']) {
      assert.equal(close(action).side, 'buy', action);
    }
    for (const action of ['close short', 'short exit', 'buy to cover', 'Buy To Close', 'cover']) {
      assert.equal(close(action).side, 'sell', action);
    }
    const withNote = close('exit');
    assert.deepEqual(withNote.update, { type: 'closed', price: 3000 });
    assert.deepEqual(closing(read({ ticker: 'ETHUSDT', action: 'close', close: 2999, comment: 'stop trail' })).update, {
      type: 'closed',
      price: 2999,
      notes: 'stop trail',
    });
    const noPrice = refused(read({ ticker: 'ETHUSDT', action: 'close' }));
    assert.match(noPrice.price!, /required to close at a price.*\{\{close\}\}/);
  });
});

function reversalBody() {
  return { ticker: 'BTCUSDT', action: 'sell', price: '64000', sl: '65000', tp: '63000' };
}

describe('TradingView indicator alerts', () => {
  test('the template, rendered: side written in the message, tp1/tp2, bar time in the id', () => {
    const raw = render(TRADINGVIEW_TEMPLATES.indicator, {
      ticker: 'EURUSD',
      close: '1.0850',
      'plot("Stop")': '1.0800',
      'plot("Target 1")': '1.0900',
      'plot("Target 2")': '',
      interval: '15',
      time: '2026-03-02T10:00:00Z',
    });
    const result = published(read(JSON.parse(raw), { market: 'forex' }));
    assert.deepEqual(result.input.takeProfits, [1.09], 'a blank tp2 is skipped');
    assert.equal(result.input.market, 'forex');
    assert.equal(result.input.timeframe, '15m');
    assert.equal(result.alertId, 'EURUSD-15-2026-03-02T10:00:00Z-buy');
  });

  test('numbers as numbers or strings, exchange prefixes, aliases in any case', () => {
    const result = published(
      read({
        Symbol: 'OANDA:XAUUSD',
        SIDE: 'Short',
        Entry: ' 2350.5 ',
        Stop_Loss: 2365,
        TakeProfits: ['2340', 2330, '2320.75'],
        Market: 'Commodities',
        Interval: '1D',
        Leverage: 'x20',
        Notes: 'CPI tomorrow',
        Source: 'Gold desk',
      }),
    );
    assert.deepEqual(result.input, {
      channel: 'alerts',
      symbol: 'XAUUSD',
      market: 'commodities',
      side: 'sell',
      entry: 2350.5,
      stopLoss: 2365,
      takeProfits: [2340, 2330, 2320.75],
      timeframe: '1D',
      leverage: 20,
      notes: 'CPI tomorrow',
      source: 'Gold desk',
    });
    const listed = published(read({ ticker: 'SOLUSDT', action: 'long', close: 150, stop: '140', tp: '160, 170;180' }));
    assert.deepEqual(listed.input.takeProfits, [160, 170, 180]);
    assert.equal(published(read({ ...solBody(), leverage: '10x', interval: 60 })).input.leverage, 10);
    assert.equal(published(read({ ...solBody(), interval: 60 })).input.timeframe, '1h');
    assert.equal(published(read({ ...solBody(), interval: '1' })).input.timeframe, '1m');
    assert.equal(published(read({ ...solBody(), id: 1712345678 })).alertId, '1712345678');
  });

  test("the source's label and market are defaults only", () => {
    const plain = published(read(solBody(), { label: null }));
    assert.equal(plain.input.source, undefined);
    assert.equal(published(read({ ...solBody(), market: 'other' })).input.market, 'other');
    assert.match(refused(read(solBody(), { market: null })).market!, /default market/);
  });
});

function solBody() {
  return { ticker: 'SOLUSDT', action: 'buy', price: '150', sl: '140', tp: '160' };
}

describe('text alerts', () => {
  test('a text signal is read with the source market as the default and the label as source', () => {
    const result = published(read('NVDA LONG\nEntry 120\nSL 110\nTP 130 140', { market: 'stocks' }));
    assert.equal(result.input.symbol, 'NVDA');
    assert.equal(result.input.market, 'stocks');
    assert.equal(result.input.source, 'TV strategy');
    assert.equal(result.alertId, null);
    assert.ok(result.warnings.some((w) => /default, stocks/.test(w)));
  });

  test('text with no content type, and text refused with the parser’s reasons', () => {
    const parsed = readWebhookBody('BTC/USDT LONG Entry 64000 SL 63000 TP 65000', undefined);
    assert.ok(parsed.ok && parsed.body.format === 'text');
    const reasons = refused(read('BTCUSDT LONG\nEntry 64000\nSL 65000\nTP 66000'));
    assert.match(reasons.stopLoss!, /below the entry/);
    assert.ok(refused(read('gm, no trades today')).text);
  });
});

describe('bad bodies', () => {
  test('empty, not JSON, not an object, another media type', () => {
    const empty = readWebhookBody('  \n', 'text/plain');
    assert.ok(!empty.ok && empty.status === 400 && /empty/.test(empty.reasons.body!));
    // TradingView sends a message that is not valid JSON as text/plain: an unquoted NaN did it.
    const broken = readWebhookBody('{"ticker":"BTCUSDT","price":64000,"sl":NaN}', 'text/plain; charset=utf-8');
    assert.ok(!broken.ok && broken.status === 400 && /not valid JSON.*quote every value/.test(broken.reasons.body!));
    const form = readWebhookBody('ticker=BTCUSDT', 'application/x-www-form-urlencoded');
    assert.ok(!form.ok && form.status === 415);
    assert.match(refused(read([1, 2])).body!, /JSON object/);
    assert.match(refused(read('42', {}, 'application/json')).body!, /JSON object/);
  });

  test('every missing field is named by the key to add, with the placeholder to put there', () => {
    const reasons = refused(read({}, { market: null }));
    assert.deepEqual(Object.keys(reasons).sort(), ['action', 'market', 'price', 'sl', 'ticker', 'tp']);
    assert.match(reasons.ticker!, /\{\{ticker\}\}/);
    assert.match(reasons.action!, /\{\{strategy\.order\.action\}\}/);
    assert.match(reasons.price!, /\{\{close\}\}/);
  });

  test('values TradingView could not fill, and values that are no numbers, under their own keys', () => {
    const reasons = refused(
      read({
        ticker: 'BTCUSDT',
        action: 'buy',
        close: '',
        stopLoss: 'NaN',
        tp1: '{{plot("TP 1")}}',
        tp2: 'soon',
        leverage: true,
      }),
    );
    assert.match(reasons.close!, /empty/);
    assert.match(reasons.stopLoss!, /NaN.*no value/);
    assert.match(reasons.tp1!, /placeholder/);
    assert.match(reasons.tp2!, /not a number: "soon"/);
    assert.match(reasons.leverage!, /must be a number/);
  });

  test("the API's own rules, reported under the author's keys", () => {
    const reasons = refused(
      read({ ticker: 'BTCUSDT', action: 'buy', price: '64000', stop: '64500', tp1: '65000', tp2: '63000' }),
    );
    assert.equal(reasons.stop, 'must be below the entry for a buy (the entry is 64000)');
    assert.equal(reasons.tp2, 'target 2 must be above the entry for a buy (the entry is 64000)');
    const listed = refused(read({ ...reversalBody(), tp: '63000 64500' }));
    assert.match(listed.tp!, /^target 2 must be below the entry for a sell/);
    const tooMany = refused(read({ ...solBody(), tp: '160 161 162 163 164 165' }));
    assert.match(tooMany.tp!, /at most 5/);
    const symbol = refused(read({ ...solBody(), ticker: 'BTC USDT!' }));
    assert.match(symbol.ticker!, /may hold letters/);
    const notes = refused(read({ ...solBody(), comment: 'x'.repeat(2001) }));
    assert.match(notes.comment!, /at most 2000/);
    assert.match(refused(read({ ...solBody(), leverage: 5000 })).leverage!, /between 1 and 1000/);
    assert.match(refused(read({ ...solBody(), market: 'tulips' })).market!, /one of crypto/);
  });

  test('ambiguous or unreadable keys', () => {
    assert.match(refused(read({ ...solBody(), action: 'hold' })).action!, /got "hold"/);
    assert.match(refused(read({ ...solBody(), tp1: '161' })).tp1!, /not both/);
    assert.match(refused(read({ ...solBody(), id: 'x'.repeat(201) })).id!, /at most 200/);
    assert.match(refused(read({ ...solBody(), id: { bar: 1 } })).id!, /string/);
    const misspelt = refused(
      read({ ticker: 'SOLUSDT', action: 'buy', price: '150', stoploss_price: '140', tp: '160' }),
    );
    assert.match(misspelt.sl!, /required/);
    assert.equal(misspelt.ignored, 'these keys are not read: "stoploss_price"');
  });
});

describe('address allowlists', () => {
  test('addresses, CIDR ranges, IPv4-mapped IPv6, and nothing else', () => {
    const allowed = ['52.89.214.238', '10.0.0.0/8', '2001:db8::/32', '::1'];
    assert.ok(addressAllowed('52.89.214.238', allowed));
    assert.ok(addressAllowed('::ffff:52.89.214.238', allowed), 'an IPv4 client seen through an IPv6 socket');
    assert.ok(addressAllowed('10.200.3.4', allowed));
    assert.ok(addressAllowed('2001:db8:1::9', allowed));
    assert.ok(addressAllowed('0:0:0:0:0:0:0:1', allowed));
    assert.ok(!addressAllowed('52.89.214.239', allowed));
    assert.ok(!addressAllowed('11.0.0.1', allowed));
    assert.ok(!addressAllowed('2001:db9::1', allowed));
    assert.ok(!addressAllowed('not an address', allowed));
  });
});
