/**
 * The guarded HTTP client: which targets it refuses (SSRF), that the address it checked is the one it
 * connects to (DNS rebinding), no redirects, the whole-request timeout, and what an answer holds.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  createGuardedHttp,
  HttpRefused,
  nonPublicKind,
  retryAfterMs,
  type GuardedHttp,
  type Resolver,
} from './http.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local server that records every request and answers with `handler`. */
async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    });
    handler(req, res);
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    seen,
    connections: () => connections,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type TestServer = Awaited<ReturnType<typeof startServer>>;

/** A resolver that answers from a script, one answer per call, repeating the last. */
function scriptedResolver(answers: string[][]): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    const answer = answers[Math.min(calls.length, answers.length - 1)] ?? [];
    calls.push(hostname);
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

async function refusal(promise: Promise<unknown>): Promise<HttpRefused> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HttpRefused, `expected HttpRefused, got ${String(error)}`);
    return error;
  }
  return assert.fail('the request was sent');
}

const userAgent = 'signal-desk-test';
const PUBLIC = '93.184.215.14';

describe('guarded HTTP', () => {
  let server: TestServer;
  let guarded: GuardedHttp;
  let open: GuardedHttp;

  before(async () => {
    server = await startServer((req, res) => {
      if (req.url === '/redirect') res.writeHead(302, { location: '/elsewhere' }).end('moved');
      else if (req.url === '/large') res.writeHead(200, { 'X-Custom': 'yes' }).end('x'.repeat(200 * 1024));
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    });
    guarded = createGuardedHttp({ allowPrivate: false, userAgent });
    open = createGuardedHttp({ allowPrivate: true, userAgent });
  });
  after(async () => {
    guarded.close();
    open.close();
    await server.close();
  });
  beforeEach(() => {
    server.seen.length = 0;
  });

  test('refuses loopback, private, link-local, unique-local, CGNAT and mapped targets, and non-http schemes', async () => {
    const targets = [
      `http://127.0.0.1:${server.port}/`,
      `http://localhost:${server.port}/`,
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${server.port}/`,
      'http://[fe80::1]/',
      `http://[::ffff:127.0.0.1]:${server.port}/`,
      'http://100.64.1.1/',
      'http://0x7f.1/', // the URL parser reads this as 127.0.0.1
      'https://[fd00::1]/',
    ];
    for (const url of targets) {
      const reason = await guarded.checkTarget(url);
      assert.match(reason ?? '', /is a private address|resolves to .*, a private address/, url);
      const error = await refusal(guarded.request(url, { method: 'POST', body: 'x', timeoutMs: 2000 }));
      assert.match(error.message, /private address/, url);
    }
    const ftp = await refusal(guarded.request('ftp://example.com/file', { method: 'GET', timeoutMs: 2000 }));
    assert.match(ftp.message, /only http: and https:/);
    assert.match((await guarded.checkTarget('ftp://example.com/file')) ?? '', /only http: and https:/);
    assert.equal(server.seen.length, 0);
  });

  test('with allowPrivate the same targets are allowed, and a request reaches the server', async () => {
    for (const url of ['http://127.0.0.1/', 'http://localhost/', 'http://10.0.0.1/', 'http://169.254.169.254/']) {
      assert.equal(await open.checkTarget(url), null, url);
    }
    for (const url of ['http://[::1]/', 'http://[fe80::1]/', 'http://[::ffff:127.0.0.1]/', 'http://100.64.1.1/']) {
      assert.equal(await open.checkTarget(url), null, url);
    }
    assert.notEqual(await open.checkTarget('ftp://example.com/'), null);
    const answer = await open.request(`http://localhost:${server.port}/hello`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: 'ping',
      timeoutMs: 2000,
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'hello');
    assert.equal(answer.headers['content-type'], 'text/plain');
    assert.deepEqual(
      server.seen.map((s) => [s.method, s.url, s.body, s.headers['user-agent']]),
      [['POST', '/hello', 'ping', userAgent]],
    );
  });

  test('names every kind of address that is not public unicast', () => {
    const kinds: [string, string | null][] = [
      ['8.8.8.8', null],
      ['2606:4700:4700::1111', null],
      ['64:ff9b::808:808', null], // NAT64 of 8.8.8.8
      ['64:ff9b::a00:1', 'a private address (private), as 10.0.0.1'],
      ['::ffff:169.254.169.254', 'a private address (linkLocal), as 169.254.169.254'],
      ['172.16.5.4', 'a private address (private)'],
      ['192.168.1.1', 'a private address (private)'],
      ['fc00::1', 'a private address (uniqueLocal)'],
      ['0.0.0.0', 'not a public address (unspecified)'],
      ['::', 'not a public address (unspecified)'],
      ['255.255.255.255', 'not a public address (broadcast)'],
      ['224.0.0.1', 'not a public address (multicast)'],
      ['ff02::1', 'not a public address (multicast)'],
      ['192.0.2.1', 'not a public address (reserved)'],
      ['240.0.0.1', 'not a public address (reserved)'],
      ['2001:db8::1', 'not a public address (reserved)'],
    ];
    assert.deepEqual(
      kinds.map(([address]) => [address, nonPublicKind(address)]),
      kinds,
    );
  });

  test('a 3xx is returned as it is: the redirect is not followed', async () => {
    const answer = await open.request(`http://127.0.0.1:${server.port}/redirect`, { method: 'POST', timeoutMs: 2000 });
    assert.equal(answer.status, 302);
    assert.equal(answer.headers.location, '/elsewhere');
    assert.deepEqual(
      server.seen.map((s) => s.url),
      ['/redirect'],
    );
  });

  test('the body is cut at 64 KiB; header names are lower-cased', async () => {
    const answer = await open.request(`http://127.0.0.1:${server.port}/large`, { method: 'GET', timeoutMs: 2000 });
    assert.equal(answer.body.length, 64 * 1024);
    assert.equal(answer.headers['x-custom'], 'yes');
  });

  test('a server that never answers times out near timeoutMs, and the request is aborted', async () => {
    let closed = false;
    const silent = await startServer((req) => req.socket.on('close', () => (closed = true)));
    try {
      const started = Date.now();
      await assert.rejects(
        open.request(`http://127.0.0.1:${silent.port}/`, { method: 'POST', body: '{}', timeoutMs: 300 }),
        /timed out after 300 ms/,
      );
      const took = Date.now() - started;
      assert.ok(took >= 290 && took < 1000, `took ${took} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(closed, true);
    } finally {
      await silent.close();
    }
  });

  describe('the address checked is the address connected to', () => {
    test('a resolver that answers public to the check and private to the connect cannot get a request through', async () => {
      // The classic rebinding: a short TTL, the first answer public, every later one internal.
      const resolve = scriptedResolver([[PUBLIC], ['127.0.0.1']]);
      const rebinding = createGuardedHttp({ allowPrivate: false, userAgent, resolve });
      try {
        const url = `http://rebind.test:${server.port}/`;
        assert.equal(await rebinding.checkTarget(url), null);
        const error = await refusal(rebinding.request(url, { method: 'POST', body: 'x', timeoutMs: 2000 }));
        assert.match(error.message, /rebind\.test resolves to 127\.0\.0\.1, a private address \(loopback\)/);
        assert.equal(server.seen.length, 0);
        assert.deepEqual(resolve.calls, ['rebind.test', 'rebind.test']);
      } finally {
        rebinding.close();
      }
    });

    test('one resolution serves both the check and the connect, whose address it is', async () => {
      // `receiver.test` exists only in this resolver: reaching the server proves the connection used its answer.
      const resolve = scriptedResolver([['127.0.0.1']]);
      const client = createGuardedHttp({ allowPrivate: true, userAgent, resolve });
      try {
        const before = server.connections();
        const first = await client.request(`http://receiver.test:${server.port}/a`, { method: 'GET', timeoutMs: 2000 });
        const second = await client.request(`http://receiver.test:${server.port}/b`, {
          method: 'GET',
          timeoutMs: 2000,
        });
        assert.deepEqual([first.status, second.status], [200, 200]);
        assert.deepEqual(resolve.calls, ['receiver.test']);
        assert.equal(server.connections() - before, 1, 'the kept-alive connection is reused');
        assert.equal(server.seen[0]?.headers.host, `receiver.test:${server.port}`);
      } finally {
        client.close();
      }
    });

    test('a name with one private address among public ones is refused', async () => {
      const resolve = scriptedResolver([[PUBLIC, '10.1.2.3']]);
      const client = createGuardedHttp({ allowPrivate: false, userAgent, resolve });
      try {
        assert.match((await client.checkTarget('https://mixed.test/')) ?? '', /10\.1\.2\.3, a private address/);
        await refusal(client.request(`http://mixed.test:${server.port}/`, { method: 'GET', timeoutMs: 2000 }));
      } finally {
        client.close();
      }
    });

    test('the agent lent to other libraries guards every connection it opens, IP literals included', async () => {
      const resolve = scriptedResolver([['127.0.0.1']]);
      const client = createGuardedHttp({ allowPrivate: false, userAgent, resolve });
      const viaAgent = (host: string) =>
        new Promise<void>((resolveRequest, reject) => {
          const request = http.request({ host, port: server.port, agent: client.agentFor('http://x/') }, (res) => {
            res.resume();
            resolveRequest();
          });
          request.on('error', reject);
          request.end();
        });
      try {
        await refusal(viaAgent('127.0.0.1'));
        await refusal(viaAgent('sneaky.test'));
        assert.equal(server.seen.length, 0);
      } finally {
        client.close();
      }
    });
  });

  test('a name that does not resolve is no refusal: the send meets the DNS error itself', async () => {
    const resolve: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    };
    const client = createGuardedHttp({ allowPrivate: false, userAgent, resolve });
    try {
      assert.equal(await client.checkTarget('https://nowhere.test/hook'), null);
      await assert.rejects(
        client.request('http://nowhere.test/hook', { method: 'POST', timeoutMs: 2000 }),
        (error: Error) => !(error instanceof HttpRefused) && /ENOTFOUND/.test(error.message),
      );
    } finally {
      client.close();
    }
  });

  test('Retry-After reads as seconds or as an HTTP date', () => {
    const now = new Date('2026-03-01T12:00:00Z');
    assert.equal(retryAfterMs('7', now), 7000);
    assert.equal(retryAfterMs('1.5', now), 1500);
    assert.equal(retryAfterMs('Sun, 01 Mar 2026 12:00:30 GMT', now), 30_000);
    assert.equal(retryAfterMs('Sun, 01 Mar 2026 11:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs(undefined, now), undefined);
  });
});
