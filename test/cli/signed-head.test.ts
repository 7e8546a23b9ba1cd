/**
 * `verify --head`: a head the server signed before a forger rewrote an export (recomputing
 * every hash so the chain alone still verifies) proves the rewrite.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StoredEvent } from '../../shared/events.js';
import { eventHash } from '../../server/core/hash-chain.js';
import { tempDir } from '../helpers/databases.js';
import { buildAdmin, buildChannel, publish, startServer, type TestServer } from '../helpers/server.js';
import { cli, cliOk } from './cli.js';

/** Rewrites one event and recomputes every hash after it, as a careful forger would. */
function forge(events: readonly StoredEvent[], seq: number): StoredEvent[] {
  const tips = new Map<string, string>();
  return events.map((original) => {
    let event = original;
    if (event.seq === seq) event = { ...event, data: { ...event.data, notes: 'this call always won' } } as StoredEvent;
    const prevHash = tips.get(event.channel) ?? '0'.repeat(64);
    const { hash: _old, ...rest } = { ...event, prevHash };
    const rebuilt = { ...rest, hash: eventHash(rest) } as StoredEvent;
    tips.set(rebuilt.channel, rebuilt.hash);
    return rebuilt;
  });
}

describe('signal-desk verify --head', () => {
  let server: TestServer;
  let dir: ReturnType<typeof tempDir>;
  const file = (name: string) => join(dir.path, name);

  before(async () => {
    server = await startServer();
    dir = tempDir();
    const admin = await buildAdmin(server);
    await buildChannel(admin, 'gold');
    for (let i = 0; i < 6; i++) await publish(admin, 'gold');
    const head = await admin.api.get('/api/chain/head');
    assert.equal(head.status, 200, JSON.stringify(head.body));
    writeFileSync(file('head.json'), JSON.stringify(head.body));
    const key = await admin.api.get('/api/chain/key');
    writeFileSync(file('key.json'), JSON.stringify(key.body));
    const exported = await admin.api.get<string>('/api/export');
    writeFileSync(file('log.ndjson'), exported.body);
  });
  after(async () => {
    await server.close();
    dir.remove();
  });

  test('the untouched export matches the signed head', async () => {
    const result = await cliOk(['verify', file('log.ndjson'), '--head', file('head.json'), '--key', file('key.json')]);
    assert.match(result.stdout, /OK signed head gold seq 6 .*signature valid, history matches/);
  });

  test('a rewritten export whose chain verifies is caught by the signed head', async () => {
    const events = readFileSync(file('log.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as StoredEvent);
    const forged = forge(events, 3);
    writeFileSync(file('forged.ndjson'), forged.map((e) => `${JSON.stringify(e)}\n`).join(''));
    assert.equal((await cli(['verify', file('forged.ndjson')])).code, 0, 'the chain alone cannot tell');
    const result = await cli(['verify', file('forged.ndjson'), '--head', file('head.json'), '--key', file('key.json')]);
    assert.equal(result.code, 1);
    const last = forged.at(-1)!;
    assert.match(
      result.stdout,
      new RegExp(`FAILED signed head gold seq 6 .*event seq 6 \\(id ${last.id}, channel gold\\).*rewritten`),
    );
  });

  test('a head checked with another key, or with a broken signature, is refused', async () => {
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(file('other.pem'), other);
    const body = JSON.parse(readFileSync(file('head.json'), 'utf8')) as {
      heads: Array<{ signature: string; keyFingerprint?: string }>;
    };
    const broken = {
      heads: body.heads.map((h) => ({ ...h, keyFingerprint: undefined, signature: 'A'.repeat(86) + '==' })),
    };
    writeFileSync(file('broken.json'), JSON.stringify(broken));
    const [wrongKey, badSignature, noKey] = await Promise.all([
      cli(['verify', file('log.ndjson'), '--head', file('head.json'), '--key', file('other.pem')]),
      cli(['verify', file('log.ndjson'), '--head', file('broken.json'), '--key', file('key.json')]),
      cli(['verify', file('log.ndjson'), '--head', file('head.json')]),
    ]);
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /signed by key sha256:[0-9a-f]+, not by the given key/);
    assert.equal(badSignature.code, 1);
    assert.match(badSignature.stderr, /signature of the head of gold at seq 6 does not verify/);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /--head needs --key/);
  });
});
