/**
 * Password change, reset by an admin and "sign out everywhere", through the API and the CLI:
 * each ends the sessions it should (and their live sockets, at once), keeps the one it should,
 * and a subscriber cannot do any of it to someone else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Api,
  buildAdmin,
  buildChannel,
  buildSubscriber,
  connect,
  login,
  PASSWORD,
  startServer,
  type Account,
  type TestServer,
} from '../helpers/server.js';
import { cliOk } from '../cli/cli.js';

const NEW_PASSWORD = 'a brand new passphrase';

async function disconnectedWithin(socket: ReturnType<typeof connect>['socket'], ms: number): Promise<boolean> {
  if (socket.disconnected) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('disconnect', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('passwords and sessions', () => {
  let server: TestServer;
  let admin: Account;

  before(async () => {
    server = await startServer();
    admin = await buildAdmin(server);
    await buildChannel(admin, 'fx');
  });
  after(() => server.close());

  test('a password change needs the current one, ends the other sessions and keeps this one', async () => {
    const here = await buildSubscriber(server, admin, { channels: ['fx'] });
    const elsewhere = await login(server, here.user.email);
    const otherDevice = connect(server, { token: elsewhere.token });
    await otherDevice.waitLive();

    const wrong = await here.api.post('/api/me/password', { currentPassword: 'not it', newPassword: NEW_PASSWORD });
    assert.equal(wrong.status, 400);
    assert.ok(wrong.body.error.fields.currentPassword);

    const changed = await here.api.post('/api/me/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    assert.equal(changed.status, 204);
    assert.ok(await disconnectedWithin(otherDevice.socket, 3000), 'the other device was disconnected');
    assert.equal((await elsewhere.api.get('/api/me')).status, 401);
    assert.equal((await here.api.get('/api/me')).status, 200, 'this session stays');
    const old = await new Api(server.url).post('/api/auth/login', { email: here.user.email, password: PASSWORD });
    assert.equal(old.status, 401);
    await login(server, here.user.email, NEW_PASSWORD);
  });

  test('sign out everywhere ends every session, this one too', async () => {
    const one = await buildSubscriber(server, admin, { channels: ['fx'] });
    const two = await login(server, one.user.email);
    const socket = connect(server, { token: two.token });
    await socket.waitLive();
    assert.equal((await one.api.post('/api/auth/logout-everywhere')).status, 204);
    assert.ok(await disconnectedWithin(socket.socket, 3000));
    assert.equal((await one.api.get('/api/me')).status, 401);
    assert.equal((await two.api.get('/api/me')).status, 401);
  });

  test('an admin resets a password or signs a user out; a subscriber cannot', async () => {
    const user = await buildSubscriber(server, admin, { channels: ['fx'] });
    const other = await buildSubscriber(server, admin, { channels: ['fx'] });
    const socket = connect(server, { token: user.token });
    await socket.waitLive();
    assert.equal((await other.api.post(`/api/users/${user.user.id}/password`, { password: NEW_PASSWORD })).status, 403);
    assert.equal((await other.api.post(`/api/users/${user.user.id}/sessions/revoke`)).status, 403);
    assert.equal((await admin.api.post(`/api/users/${user.user.id}/password`, { password: 'short' })).status, 400);
    assert.equal((await admin.api.post(`/api/users/${user.user.id}/password`, { password: NEW_PASSWORD })).status, 204);
    assert.ok(await disconnectedWithin(socket.socket, 3000));
    assert.equal((await user.api.get('/api/me')).status, 401);
    const again = await login(server, user.user.email, NEW_PASSWORD);
    assert.equal((await admin.api.post(`/api/users/${user.user.id}/sessions/revoke`)).status, 204);
    assert.equal((await again.api.get('/api/me')).status, 401);
    assert.equal((await admin.api.post('/api/users/nobody/sessions/revoke')).status, 404);
  });

  test('the CLI sets a password and signs a user out; the running server closes their sockets', async () => {
    const user = await buildSubscriber(server, admin, { channels: ['fx'] });
    const env = { DATABASE_URL: server.database.url };
    const socket = connect(server, { token: user.token });
    await socket.waitLive();
    const set = await cliOk(['user', 'password', '--email', user.user.email, '--password', '-'], env, NEW_PASSWORD);
    assert.match(set.stdout, /set a new password/);
    // The CLI writes from another process: the server notices within about a second.
    assert.ok(await disconnectedWithin(socket.socket, 5000));
    assert.equal((await user.api.get('/api/me')).status, 401);
    const fresh = await login(server, user.user.email, NEW_PASSWORD);
    await cliOk(['user', 'sign-out', '--email', user.user.email], env);
    assert.equal((await fresh.api.get('/api/me')).status, 401);
  });
});
