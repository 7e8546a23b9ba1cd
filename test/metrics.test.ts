/**
 * `GET /metrics`: off (404) without METRICS_TOKEN, 401 without the right bearer, and with it
 * the Prometheus text format holding the node's own figures as they move: connections by
 * transport, deliveries, publish acknowledgement and delivery latency, replays, refusals,
 * destination attempts, and Node's own (event-loop delay among them).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
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
} from './helpers/server.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

const TOKEN = 'metrics-token-for-tests-0123456789';

/** `name{labels} value` lines into a lookup: metric with its labels → value. */
function parse(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

describe('metrics', () => {
  let server: TestServer;
  let admin: Account;
  let receiver: WebhookReceiver;

  before(async () => {
    receiver = await startWebhookReceiver();
    server = await startServer({
      env: { METRICS_TOKEN: TOKEN, DESTINATIONS_ALLOW_PRIVATE: 'true', AUTH_RATE_LIMIT: '6' },
    });
    admin = await buildAdmin(server);
    await buildChannel(admin, 'gold');
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  const scrape = async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    return { text, values: parse(text) };
  };

  test('off without the token setting; 401 without the right bearer', async () => {
    const off = await startServer();
    try {
      assert.equal((await fetch(`${off.url}/metrics`)).status, 404);
    } finally {
      await off.close();
    }
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /Bearer/);
  });

  test('the figures move with what the node does', async () => {
    const sub = await buildSubscriber(server, admin, { channels: ['gold'] });
    const socket = connect(server, { token: sub.token, lastSeq: 0 });
    await socket.waitLive();
    const hook = await admin.api.post('/api/destinations', {
      kind: 'webhook',
      name: 'm',
      url: receiver.url,
      channels: ['gold'],
    });
    receiver.secrets = [hook.body.secret];
    for (let i = 0; i < 3; i++) await publish(admin, 'gold');
    await socket.waitFor((events) => events.length >= 3);
    await receiver.waitFor((messages) => messages.length >= 3);
    // Setup and one sign-in spent 2 of the 6 a minute: 4 wrong passwords are checked, 2 refused unread.
    for (let i = 0; i < 6; i++) {
      await new Api(server.url).post('/api/auth/login', { email: 'nobody@example.test', password: 'wrong password' });
    }
    const { text, values } = await scrape();
    assert.equal(values.get('signaldesk_connections{transport="websocket"}'), 1);
    assert.ok((values.get('signaldesk_deliveries_total{transport="socketio"}') ?? 0) >= 3);
    assert.ok((values.get('signaldesk_publish_ack_seconds_count') ?? 0) >= 3);
    assert.ok((values.get('signaldesk_delivery_latency_seconds_count') ?? 0) >= 3);
    assert.ok((values.get('signaldesk_fanout_walk_seconds_count') ?? 0) >= 1);
    assert.ok((values.get('signaldesk_replays_total{outcome="live"}') ?? 0) >= 1);
    assert.equal(values.get('signaldesk_log_head_seq'), server.runtime.hub.headSeq);
    assert.ok((values.get('signaldesk_login_failures_total') ?? 0) >= 3);
    assert.ok((values.get('signaldesk_refusals_total{limit="auth_rate"}') ?? 0) >= 1);
    assert.ok((values.get('signaldesk_destination_attempts_total{kind="webhook",result="delivered"}') ?? 0) >= 3);
    assert.equal(values.get('signaldesk_destinations{kind="webhook",state="active"}'), 1);
    assert.ok(values.has('nodejs_eventloop_lag_p99_seconds'), "Node's event-loop delay");
    assert.ok(values.has('process_resident_memory_bytes'));
    // Conventions: our names carry the prefix; nothing is labelled by user.
    for (const line of text.split('\n').filter((l) => l.startsWith('# TYPE signaldesk_'))) {
      const [, , name, type] = line.split(' ');
      if (type === 'counter') assert.match(name!, /_total$/, name);
    }
    assert.doesNotMatch(text, /user(Id)?="|email="/);
    socket.close();
  });
});
