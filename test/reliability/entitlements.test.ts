/**
 * The entitlement matrix: every read path × every actor sees exactly what its grants allow.
 * Expected visibility is computed from the whole log (read from the store) filtered by the
 * actor's channels; each path's answer must equal it — nothing missing, nothing foreign.
 * Actors without a valid session get 401 (or `connect_error: unauthorized`) on every path.
 */
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { newToken, tokenHash } from '../../server/auth/tokens.js';
import type { StoredEvent } from '../../shared/events.js';
import {
  Api,
  buildAdmin,
  buildChannel,
  buildSubscriber,
  connect,
  publish,
  startServer,
  type Account,
  type TestServer,
} from '../helpers/server.js';
import { readSseUntilLive } from '../helpers/sse.js';
import { report, sleep, failures, test } from './support.js';

let server: TestServer;
let admin: Account;
let cells = 0;
let eventsChecked = 0;

interface Actor {
  name: string;
  token: string | null;
  /** Channels it may see; 'all' for admins; null when it has no valid session. */
  sees: 'all' | string[] | null;
}
const actors: Actor[] = [];

async function wholeLog(): Promise<StoredEvent[]> {
  return server.runtime.store.readEvents({ after: 0, limit: 100_000, channels: 'all' });
}
const visibleTo = (log: StoredEvent[], sees: 'all' | string[]) =>
  log.filter((e) => sees === 'all' || sees.includes(e.channel));
const seqsOf = (events: readonly { seq: number }[]) => events.map((e) => e.seq);

function api(actor: Actor): Api {
  return new Api(server.url, actor.token ?? undefined);
}

/** Reads an SSE stream until the `live` marker (replay done) or a timeout; returns its events. */
async function readSse(actor: Actor, query: string, headers: Record<string, string> = {}) {
  const { status, messages } = await readSseUntilLive(`${server.url}/api/stream${query}`, {
    ...(actor.token ? { authorization: `Bearer ${actor.token}` } : {}),
    ...headers,
  });
  const events = messages
    .filter((m) => m.event === 'new_signal' || m.event === 'signal_update')
    .map((m) => JSON.parse(m.data) as StoredEvent);
  return { status, events };
}

/** Connects a socket and resolves with what it replayed before `live`, or the connect error. */
async function replayOverSocket(actor: Actor, lastSeq: unknown) {
  const sub = connect(server, { ...(actor.token ? { token: actor.token } : {}), lastSeq: lastSeq as number });
  try {
    await sub.waitLive();
    return { error: null, events: [...sub.events], sub };
  } catch (error) {
    sub.close();
    return { error: (error as Error).message, events: [], sub: null };
  }
}

before(async () => {
  server = await startServer();
  admin = await buildAdmin(server);
  for (const slug of ['red', 'blue', 'green']) await buildChannel(admin, slug);

  const entitled = await buildSubscriber(server, admin, { channels: ['red', 'blue'] });
  const never = await buildSubscriber(server, admin, { channels: [] });
  const greenOnly = await buildSubscriber(server, admin, { channels: ['green'] });
  const revoked = await buildSubscriber(server, admin, { channels: ['red', 'blue'] });
  const disabled = await buildSubscriber(server, admin, { channels: ['red'] });
  const loggedOut = await buildSubscriber(server, admin, { channels: ['red'] });
  const expiredUser = await buildSubscriber(server, admin, { channels: ['red'] });

  // History in every channel, with lifecycle events.
  for (let i = 0; i < 12; i++) {
    const signal = await publish(admin, ['red', 'blue', 'green'][i % 3]!);
    if (i % 2 === 0) await admin.api.post(`/api/signals/${signal.id}/updates`, { type: 'tp_hit', level: 1 });
    if (i % 4 === 0) await admin.api.post(`/api/signals/${signal.id}/updates`, { type: 'note', notes: 'n' });
  }

  // `revoked` saw blue, went offline, lost blue while away; more history follows.
  const before = await replayOverSocket({ name: 'revoked', token: revoked.token, sees: null }, 0);
  assert.equal(before.error, null);
  const lastSeqBefore = before.events.at(-1)!.seq;
  assert.ok(
    before.events.some((e) => e.channel === 'blue'),
    'revoked user saw blue before the revocation',
  );
  before.sub!.close();
  assert.equal((await admin.api.request('DELETE', `/api/users/${revoked.user.id}/channels/blue`)).status, 200);
  offlineResume = { token: revoked.token, lastSeq: lastSeqBefore };

  assert.equal((await admin.api.request('PATCH', `/api/users/${disabled.user.id}`, { disabled: true })).status, 200);
  assert.equal((await loggedOut.api.post('/api/auth/logout')).status, 204);
  // An expired session written straight to the store, as time passing would leave it.
  const expiredToken = newToken();
  await server.runtime.store.createSession({
    id: uuidv7(),
    tokenHash: tokenHash(expiredToken),
    userId: expiredUser.user.id,
    expiresAt: new Date(Date.now() - 60_000).toISOString(),
  });

  for (let i = 0; i < 9; i++) await publish(admin, ['red', 'blue', 'green'][i % 3]!);

  actors.push(
    { name: 'admin', token: admin.token, sees: 'all' },
    { name: 'entitled', token: entitled.token, sees: ['red', 'blue'] },
    { name: 'never-entitled', token: never.token, sees: [] },
    { name: 'other-channel', token: greenOnly.token, sees: ['green'] },
    { name: 'revoked', token: revoked.token, sees: ['red'] },
    { name: 'disabled', token: disabled.token, sees: null },
    { name: 'logged-out', token: loggedOut.token, sees: null },
    { name: 'anonymous', token: null, sees: null },
    { name: 'forged-token', token: newToken(), sees: null },
    { name: 'expired-session', token: expiredToken, sees: null },
  );
});
let offlineResume: { token: string; lastSeq: number };

after(async () => {
  report('entitlement-matrix', { actors: actors.length, cells, eventsChecked, anomalies: failures.count });
  await server.close();
});

describe('entitlement matrix', () => {
  test('HTTP read paths: exactly the entitled events, or 401 without a valid session', async () => {
    const log = await wholeLog();
    const signals = log.filter((e) => e.type === 'signal.created');
    for (const actor of actors) {
      const who = actor.name;
      const a = api(actor);
      const paths = ['/api/signals?limit=500', '/api/events?after=0&limit=1000', '/api/export', '/api/stats'];
      if (actor.sees === null) {
        for (const path of [
          ...paths,
          `/api/signals/${signals[0]!.id}`,
          '/api/me',
          '/api/me/unread',
          '/api/chain/head',
        ]) {
          const res = await a.get(path);
          assert.equal(res.status, 401, `${who} ${path}: ${res.status}`);
          assert.ok(res.body?.error?.code, `${who} ${path}: error body`);
          cells++;
        }
        continue;
      }
      const expected = visibleTo(log, actor.sees);
      const expectedSignals = expected.filter((e) => e.type === 'signal.created');

      const list = await a.get('/api/signals?limit=500');
      assert.equal(list.status, 200);
      assert.deepEqual(
        (list.body.items as { id: string }[]).map((s) => s.id).sort(),
        expectedSignals.map((e) => e.id).sort(),
        `${who}: GET /api/signals`,
      );
      cells++;

      const events = await a.get('/api/events?after=0&limit=1000');
      assert.equal(events.status, 200);
      assert.deepEqual(seqsOf(events.body.events), seqsOf(expected), `${who}: GET /api/events`);
      eventsChecked += events.body.events.length;
      cells++;

      // Asking for a channel one may not see by name yields nothing, not an error that confirms it.
      for (const channel of ['red', 'blue', 'green']) {
        const res = await a.get(`/api/events?after=0&limit=1000&channel=${channel}`);
        const allowed: boolean = actor.sees === 'all' || actor.sees.includes(channel);
        assert.deepEqual(
          seqsOf(res.body.events),
          allowed ? seqsOf(expected.filter((e) => e.channel === channel)) : [],
          `${who}: GET /api/events?channel=${channel}`,
        );
        cells++;
      }

      for (const signal of signals) {
        const res = await a.get(`/api/signals/${signal.id}`);
        const allowed: boolean = actor.sees === 'all' || actor.sees.includes(signal.channel);
        assert.equal(res.status, allowed ? 200 : 404, `${who}: GET /api/signals/${signal.channel}`);
        if (allowed) assert.ok((res.body.events as StoredEvent[]).every((e) => e.channel === signal.channel));
        cells++;
      }

      const exported = await fetch(`${server.url}/api/export`, { headers: { authorization: `Bearer ${actor.token}` } });
      assert.equal(exported.status, 200);
      const lines = (await exported.text())
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as StoredEvent);
      assert.deepEqual(seqsOf(lines), seqsOf(expected), `${who}: export`);
      eventsChecked += lines.length;
      cells++;

      const stats = await a.get('/api/stats');
      assert.equal(stats.status, 200);
      assert.equal(stats.body.totals.signals, expectedSignals.length, `${who}: stats totals`);
      for (const group of stats.body.byChannel as { key: string }[]) {
        assert.ok(actor.sees === 'all' || actor.sees.includes(group.key), `${who}: stats shows channel ${group.key}`);
      }
      cells++;

      const heads = await a.get('/api/chain/head');
      assert.equal(heads.status, 200);
      for (const head of heads.body.heads as { channel: string }[]) {
        assert.ok(actor.sees === 'all' || actor.sees.includes(head.channel), `${who}: chain head of ${head.channel}`);
      }
      cells++;

      // Nobody reported a read position yet, so every visible event is unread — and only those.
      const unread = await a.get('/api/me/unread');
      assert.equal(unread.status, 200);
      assert.equal(unread.body.unread, expected.length, `${who}: unread count`);
      cells++;

      const receipts = await a.get(`/api/signals/${signals[0]!.id}/receipts`);
      assert.equal(receipts.status, actor.sees === 'all' ? 200 : 403, `${who}: receipts`);
      cells++;
    }
  });

  test('SSE: replay from 0 and from a forged Last-Event-ID holds only entitled events', async () => {
    const log = await wholeLog();
    for (const actor of actors) {
      const stream = await readSse(actor, '?after=0');
      if (actor.sees === null) {
        assert.equal(stream.status, 401, `${actor.name}: SSE`);
        cells++;
        continue;
      }
      assert.deepEqual(seqsOf(stream.events), seqsOf(visibleTo(log, actor.sees)), `${actor.name}: SSE replay`);
      eventsChecked += stream.events.length;
      cells++;
      for (const forged of ['-1', '99999999999', 'abc', '1e3']) {
        const res = await readSse(actor, '', { 'last-event-id': forged });
        assert.equal(res.status, 200);
        assert.ok(
          res.events.every((e) => actor.sees === 'all' || actor.sees!.includes(e.channel)),
          `${actor.name}: SSE Last-Event-ID ${forged} leaked a foreign event`,
        );
        cells++;
      }
    }
  });

  test('Socket.IO replay: lastSeq 0 gives exactly the entitled log; forged lastSeq values leak nothing', async () => {
    const log = await wholeLog();
    for (const actor of actors) {
      const replay = await replayOverSocket(actor, 0);
      if (actor.sees === null) {
        assert.equal(replay.error, 'unauthorized', `${actor.name}: socket must be refused`);
        cells++;
        continue;
      }
      replay.sub!.close();
      assert.deepEqual(seqsOf(replay.events), seqsOf(visibleTo(log, actor.sees)), `${actor.name}: socket replay`);
      eventsChecked += replay.events.length;
      cells++;
      for (const forged of [-1, 1.5, '1; DROP TABLE events', 1e300, Number.MAX_SAFE_INTEGER, { $gt: 0 }, [0], '0x1']) {
        const res = await replayOverSocket(actor, forged);
        assert.equal(res.error, null, `${actor.name}: lastSeq ${JSON.stringify(forged)} refused the connection`);
        res.sub!.close();
        assert.ok(
          res.events.every((e) => actor.sees === 'all' || actor.sees!.includes(e.channel)),
          `${actor.name}: lastSeq ${JSON.stringify(forged)} leaked a foreign event`,
        );
        cells++;
      }
    }
  });

  test('revoked while offline: the resume replays only what is still granted', async () => {
    const log = await wholeLog();
    const sub = connect(server, offlineResume);
    await sub.waitLive();
    sub.close();
    const expected = log.filter((e) => e.seq > offlineResume.lastSeq && e.channel === 'red');
    assert.ok(
      log.some((e) => e.seq > offlineResume.lastSeq && e.channel === 'blue'),
      'blue moved on meanwhile',
    );
    assert.deepEqual(seqsOf(sub.events), seqsOf(expected));
    eventsChecked += sub.events.length;
    cells++;
  });

  test('live: each publish reaches exactly the entitled sockets; a revocation while live takes effect at once', async () => {
    const live = actors.filter((a) => a.sees !== null);
    const subs = live.map((a) => ({ actor: a, sub: connect(server, { token: a.token! }) }));
    await Promise.all(subs.map((s) => s.sub.waitLive()));
    const published: Array<{ seq: number; channel: string }> = [];
    for (const channel of ['red', 'blue', 'green', 'blue']) published.push(await publish(admin, channel));
    const last = published.at(-1)!.seq;
    // The admin sees everything: once it has the last one, every socket has had its chance.
    await subs.find((s) => s.actor.sees === 'all')!.sub.waitFor((e) => e.some((x) => x.seq === last));
    await sleep(200);
    for (const { actor, sub } of subs) {
      const expected = published.filter((p) => actor.sees === 'all' || actor.sees!.includes(p.channel));
      assert.deepEqual(seqsOf(sub.events), seqsOf(expected), `${actor.name}: live`);
      eventsChecked += sub.events.length;
      cells++;
    }

    // Revoke red from the entitled subscriber while it is connected.
    const entitled = subs.find((s) => s.actor.name === 'entitled')!;
    const me = await api(entitled.actor).get('/api/me');
    const notice = new Promise<{ revoked: string[] }>((resolve) => entitled.sub.socket.once('entitlements', resolve));
    await admin.api.request('DELETE', `/api/users/${me.body.user.id}/channels/red`);
    assert.deepEqual((await notice).revoked, ['red']);
    const before = entitled.sub.events.length;
    const red = await publish(admin, 'red');
    const blue = await publish(admin, 'blue');
    await entitled.sub.waitFor((e) => e.some((x) => x.seq === blue.seq));
    assert.deepEqual(seqsOf(entitled.sub.events.slice(before)), [blue.seq], 'no red after the revocation');
    assert.ok(red.seq < blue.seq);
    cells++;
    for (const { sub } of subs) sub.close();
    entitled.actor.sees = ['blue'];
  });

  test('logout and disable close live sockets and SSE streams at once', async () => {
    for (const end of ['logout', 'disable'] as const) {
      const sub = await buildSubscriber(server, admin, { channels: ['red'] });
      const socket = connect(server, { token: sub.token });
      await socket.waitLive();
      const socketClosed = new Promise<void>((resolve) => socket.socket.once('disconnect', () => resolve()));
      const stream = await fetch(`${server.url}/api/stream`, { headers: { authorization: `Bearer ${sub.token}` } });
      assert.equal(stream.status, 200);
      const streamEnded = (async () => {
        for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) void chunk;
      })();
      await sleep(50);
      if (end === 'logout') assert.equal((await sub.api.post('/api/auth/logout')).status, 204);
      else
        assert.equal((await admin.api.request('PATCH', `/api/users/${sub.user.id}`, { disabled: true })).status, 200);
      await socketClosed;
      await streamEnded;
      const again = await replayOverSocket({ name: `after-${end}`, token: sub.token, sees: null }, 0);
      assert.equal(again.error, 'unauthorized');
      cells += 3;
    }
  });
});
