import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from './canonical-json.js';

test('keys are sorted by UTF-16 code units (the RFC 8785 example)', () => {
  const value = {
    '\u20ac': 'Euro Sign',
    '\r': 'Carriage Return',
    '\ufb33': 'Hebrew Letter Dalet With Dagesh',
    '1': 'One',
    '\ud83d\ude00': 'Emoji: Grinning Face',
    '\u0080': 'Control',
    '\u00f6': 'Latin Small Letter O With Diaeresis',
  };
  // Integer-like keys come first in any parsed object: read the order from the text.
  const textOrder = [...canonicalJson(value).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1]}"`));
  assert.deepEqual(textOrder, ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
});

test('no whitespace; nested values; undefined members dropped, undefined elements null', () => {
  assert.equal(
    canonicalJson({ b: [3, undefined, { y: 1, x: 'é' }], a: true, skip: undefined, c: null, d: 'q"\n' }),
    '{"a":true,"b":[3,null,{"x":"é","y":1}],"c":null,"d":"q\\"\\n"}',
  );
  assert.equal(canonicalJson([]), '[]');
  assert.equal(canonicalJson({}), '{}');
  assert.equal(canonicalJson({ only: undefined }), '{}');
});

test('numbers as ECMAScript writes them; non-finite numbers and other types are refused', () => {
  assert.equal(canonicalJson([1e21, 1e-7, -0, 0.1 + 0.2, 100]), '[1e+21,1e-7,0,0.30000000000000004,100]');
  assert.throws(() => canonicalJson(Number.NaN), TypeError);
  assert.throws(() => canonicalJson({ x: Infinity }), TypeError);
  assert.throws(() => canonicalJson({ f: () => 1 }), TypeError);
  assert.throws(() => canonicalJson(10n), TypeError);
});
