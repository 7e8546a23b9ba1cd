/** `migrate`, `user add`, `channel add`, `grant`, `revoke` as real processes, and revoke reaching a running server. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { tokenHash } from '../../server/auth/tokens.js';
import { sqlitePath } from '../../server/store/open-store.js';
import { sqliteDatabase, type TestDatabase } from '../helpers/databases.js';
import { Api, connect, PASSWORD, publish } from '../helpers/server.js';
import { openSse, type SseMessage } from '../helpers/sse.js';
import { cli, cliMany, cliOk, loginAt, serveProcess } from './cli.js';

/** Rejects after `ms` unless the race is won first. */
const deadline = (ms: number, what: string) =>
  new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref());

describe('signal-desk account commands', () => {
  let db: TestDatabase;
  let env: Record<string, string>;

  before(async () => {
    db = sqliteDatabase();
    env = { DATABASE_URL: db.url };
  });
  after(() => db.drop());

  test('--help lists every command', async () => {
    const { stdout } = await cliOk(['--help']);
    for (const command of [
      'serve',
      'migrate',
      'user',
      'channel',
      'grant',
      'revoke',
      'export',
      'import',
      'verify',
      'backup',
      'migrate-data',
    ]) {
      assert.match(stdout, new RegExp(`^  ${command}\\b`, 'm'), `help lists ${command}`);
    }
  });

  test('migrate, then create channels, users and grants', async () => {
    assert.match((await cliOk(['migrate'], env)).stdout, /up to date/);
    await cliOk(['channel', 'add', '--slug', 'gold', '--name', 'Gold'], env);
    await cliOk(['channel', 'add', '--slug', 'silver', '--name', 'Silver'], env);
    const admin = await cliOk(
      ['user', 'add', '--email', 'admin@example.test', '--password', PASSWORD, '--role', 'admin'],
      env,
    );
    assert.match(admin.stdout, /created admin admin@example\.test/);
    const sub = await cliOk(
      [
        'user',
        'add',
        '--email',
        'sub@example.test',
        '--password',
        PASSWORD,
        '--role',
        'subscriber',
        '--channels',
        'gold',
      ],
      env,
    );
    assert.match(sub.stdout, /with channels gold/);
    assert.match(
      (await cliOk(['grant', '--email', 'sub@example.test', '--channel', 'silver'], env)).stdout,
      /granted silver/,
    );
    assert.match(
      (await cliOk(['grant', '--email', 'sub@example.test', '--channel', 'silver'], env)).stdout,
      /already has silver/,
    );
    assert.match(
      (await cliOk(['revoke', '--email', 'sub@example.test', '--channel', 'silver'], env)).stdout,
      /revoked silver/,
    );
    await cliOk(['grant', '--email', 'sub@example.test', '--channel', 'silver'], env);
    // `--password -` reads it from stdin, out of sight of `ps`.
    await cliOk(
      ['user', 'add', '--email', 'stdin@example.test', '--password', '-', '--role', 'subscriber'],
      env,
      `${PASSWORD}\n`,
    );
  });

  test('bad input gives a clear message and a non-zero exit', async () => {
    const cases: Array<{ args: string[]; env?: Record<string, string>; message: RegExp; code?: number }> = [
      {
        args: ['user', 'add', '--email', 'x@example.test', '--password', 'short', '--role', 'subscriber'],
        message: /--password: .*10/,
      },
      {
        args: ['user', 'add', '--email', 'not-an-email', '--password', PASSWORD, '--role', 'admin'],
        message: /--email/,
      },
      { args: ['user', 'add', '--email', 'x@example.test', '--password', PASSWORD, '--role', 'king'], message: /king/ },
      { args: ['user', 'add', '--email', 'x@example.test', '--role', 'admin'], message: /--password/ },
      {
        args: ['user', 'add', '--email', 'sub@example.test', '--password', PASSWORD, '--role', 'subscriber'],
        message: /already exists/,
      },
      {
        args: [
          'user',
          'add',
          '--email',
          'y@example.test',
          '--password',
          PASSWORD,
          '--role',
          'subscriber',
          '--channels',
          'nope',
        ],
        message: /channel nope does not exist/,
      },
      { args: ['channel', 'add', '--slug', 'gold', '--name', 'Again'], message: /gold already exists/ },
      { args: ['channel', 'add', '--slug', 'Bad Slug!', '--name', 'x'], message: /--slug/ },
      {
        args: ['grant', '--email', 'nobody@example.test', '--channel', 'gold'],
        message: /nobody@example\.test not found/,
      },
      { args: ['revoke', '--email', 'sub@example.test', '--channel', 'nope'], message: /channel nope not found/ },
      { args: ['frobnicate'], message: /unknown command/ },
      { args: ['migrate'], env: { DATABASE_URL: 'mysql://x' }, message: /DATABASE_URL/, code: 2 },
    ];
    const results = await cliMany(cases.map((c) => ({ args: c.args, env: c.env ?? env })));
    cases.forEach((c, i) => {
      const result = results[i]!;
      assert.equal(result.code, c.code ?? 1, `${c.args.join(' ')} exits ${c.code ?? 1}: ${result.stderr}`);
      assert.match(result.stderr, c.message, c.args.join(' '));
    });
    // Nothing half-created by the failures.
    assert.equal((await cli(['grant', '--email', 'y@example.test', '--channel', 'gold'], env)).code, 1);
  });

  test('a revoke by the CLI reaches the live sockets of a running server', async () => {
    const server = await serveProcess(db.url);
    try {
      const admin = await loginAt(server.url, 'admin@example.test');
      const sub = await loginAt(server.url, 'sub@example.test');
      await loginAt(server.url, 'stdin@example.test');
      const client = connect(server, { token: sub.token });
      await client.waitLive();
      const revoked = new Promise<string[]>((resolve) =>
        client.socket.on('entitlements', (info: { revoked: string[] }) => resolve(info.revoked)),
      );
      const sse = await openSse(`${server.url}/api/stream`, { authorization: `Bearer ${sub.token}` });
      const carries = (id: string) => (messages: SseMessage[]) => messages.some((m) => m.data.includes(id));
      const before = await publish(admin, 'gold');
      await client.waitFor((events) => events.some((e) => e.id === before.id));
      await sse.waitFor(carries(before.id));

      await cliOk(['revoke', '--email', 'sub@example.test', '--channel', 'gold'], env);
      assert.deepEqual(await Promise.race([revoked, deadline(10_000, 'the running server applying the revoke')]), [
        'gold',
      ]);

      // Events reach a subscriber in seq order: once a later event of a channel it keeps has
      // arrived, the revoked channel's event would have arrived before it.
      const afterRevoke = await publish(admin, 'gold');
      const marker = await publish(admin, 'silver');
      await client.waitFor((events) => events.some((e) => e.id === marker.id));
      await sse.waitFor(carries(marker.id));
      assert.equal(
        client.events.some((e) => e.id === afterRevoke.id),
        false,
      );
      assert.equal(carries(afterRevoke.id)(sse.messages), false);
      sse.close();
      const me = await new Api(server.url, sub.token).get('/api/me');
      assert.deepEqual(me.body.user.channels, ['silver']);
      client.close();
    } finally {
      await server.stop();
    }
  });

  test('a session revoked with no message for it loses its socket and its SSE stream, not its siblings', async () => {
    const server = await serveProcess(db.url);
    try {
      const admin = await loginAt(server.url, 'admin@example.test');
      const gone = await loginAt(server.url, 'sub@example.test');
      const kept = await loginAt(server.url, 'sub@example.test');
      const goneSocket = connect(server, { token: gone.token });
      const keptSocket = connect(server, { token: kept.token });
      await Promise.all([goneSocket.waitLive(), keptSocket.waitLive()]);
      const disconnected = new Promise<void>((resolve) => goneSocket.socket.on('disconnect', () => resolve()));
      const stream = (token: string) => openSse(`${server.url}/api/stream`, { authorization: `Bearer ${token}` });
      const [goneSse, keptSse] = await Promise.all([stream(gone.token), stream(kept.token)]);
      await Promise.all([goneSse, keptSse].map((s) => s.waitFor((m) => m.some((x) => x.event === 'live'))));

      // As a logout whose notification was lost would leave it: revoked in the file, no message.
      const raw = new BetterSqlite3(sqlitePath(db.url));
      raw
        .prepare('UPDATE sessions SET revoked_at = ? WHERE token_hash = ?')
        .run(new Date().toISOString(), tokenHash(gone.token));
      raw.close();

      await Promise.race([disconnected, deadline(10_000, 'the revoked session losing its socket')]);
      await Promise.race([goneSse.closed, deadline(10_000, 'the revoked session losing its SSE stream')]);
      const signal = await publish(admin, 'silver');
      await keptSocket.waitFor((events) => events.some((e) => e.id === signal.id));
      await keptSse.waitFor((messages) => messages.some((m) => m.data.includes(signal.id)));
      keptSse.close();
      keptSocket.close();
    } finally {
      await server.stop();
    }
  });
});
