/**
 * The container deployment as a user runs it: compose.yaml builds the image from the
 * Dockerfile and starts PostgreSQL, two nodes and nginx. The first admin is created through
 * nginx with the setup code the node logged; a subscriber connected straight to node 2
 * receives what is published through nginx; node 2 is stopped, the subscriber resumes on
 * node 1 from its lastSeq, and ends with every event once, in order.
 *
 * Needs a Docker daemon and the compose plugin. When no daemon answers and `dockerd` is on
 * PATH, the test starts one (as root). Without a daemon it skips with a message, in CI too;
 * with one, it is required in CI.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, closeSync, constants, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { StoredEvent } from '../../shared/events.js';
import { freePort } from '../cluster/helpers/nginx.js';
import { tempDir } from '../helpers/databases.js';
import { Api, connect, PASSWORD, publish, type Account, type Subscriber } from '../helpers/server.js';
import { openSse } from '../helpers/sse.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The whole file stays under 10 minutes: with 45 s to find or start a daemon, 9.5 at most. */
const BUILD_TIMEOUT_MS = 300_000;
const START_TIMEOUT_MS = 90_000;
const BEFORE_TIMEOUT_MS = 420_000;
const TEST_TIMEOUT_MS = 45_000;
const NGINX_TEST_TIMEOUT_MS = 30_000;
const AFTER_TIMEOUT_MS = 30_000;

interface RunResult {
  /** null when the command could not be started or was stopped at its timeout. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (or its timeout) and collects its output; never throws. */
function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      stderr += `\n(stopped after ${options.timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${error.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The output of a command that must succeed; otherwise an error with what it printed. */
function expectSuccess(what: string, result: RunResult): string {
  if (result.code !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${what} failed (exit ${result.code}):\n${output}`);
  }
  return result.stdout;
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const daemonAnswers = async () => {
  const info = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 15_000 });
  return info.code === 0 && info.stdout.trim() !== '';
};

/** A dockerd this test started (and stops when it is done), if any. */
let ownDaemon: ChildProcess | null = null;

async function stopOwnDaemon(): Promise<void> {
  const daemon = ownDaemon;
  ownDaemon = null;
  if (!daemon || daemon.exitCode !== null || daemon.signalCode !== null) return;
  const exited = once(daemon, 'exit');
  daemon.kill('SIGTERM');
  const timer = setTimeout(() => daemon.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Starts `dockerd` in the background, its output in a temp file; null once `docker info` answers, else why not. */
async function startDaemon(): Promise<string | null> {
  if (!onPath('dockerd')) return 'no Docker daemon answers and dockerd is not installed';
  if (process.env.DOCKER_HOST) return `the Docker daemon at DOCKER_HOST=${process.env.DOCKER_HOST} does not answer`;
  if (process.getuid?.() !== 0) return 'no Docker daemon answers, and starting dockerd needs root';
  const log = join(tmpdir(), `signal-desk-dockerd-${process.pid}.log`);
  const fd = openSync(log, 'a');
  const daemon = spawn('dockerd', [], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  daemon.on('error', () => {});
  daemon.unref();
  ownDaemon = daemon;
  const deadline = Date.now() + 30_000;
  let exited = false;
  while (Date.now() < deadline) {
    exited = daemon.exitCode !== null || daemon.signalCode !== null;
    if (exited) break;
    if (await daemonAnswers()) return null;
    await sleep(500);
  }
  await stopOwnDaemon();
  const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-5).join(' | ');
  const outcome = exited ? 'exited' : 'did not answer within 30 s';
  return `no Docker daemon answers, and the dockerd started here ${outcome} (${log}: ${tail})`;
}

/**
 * The `skip` option of this suite: false when Docker can run it. Without a daemon it skips,
 * in CI too; with a daemon it is required in CI, so a missing compose plugin fails there.
 */
async function skipWithoutDocker(): Promise<string | false> {
  let why: string | null = null;
  if (!onPath('docker')) why = 'the docker client is not installed';
  else if (!(await daemonAnswers())) why = await startDaemon();
  if (!why) {
    const compose = await run('docker', ['compose', 'version', '--short'], { timeoutMs: 15_000 });
    if (compose.code === 0) return false;
    const missing = `a Docker daemon answers but the compose plugin does not (${compose.stderr.trim()})`;
    if (process.env.CI) {
      await stopOwnDaemon();
      throw new Error(`${missing}; the container deployment test is required in CI when a daemon answers`);
    }
    why = missing;
    await stopOwnDaemon();
  }
  console.warn(`SKIPPING container deployment suite: ${why}`);
  return `SKIPPED: ${why}`;
}

/** What the cluster tests compare: each event as `seq:id`, in order. */
const received = (events: ReadonlyArray<Pick<StoredEvent, 'seq' | 'id'>>) => events.map((e) => `${e.seq}:${e.id}`);

describe(
  'container deployment: compose.yaml with PostgreSQL, two nodes and nginx',
  { skip: await skipWithoutDocker() },
  () => {
    const project = `signal-desk-deploy-${process.pid}-${Date.now().toString(36)}`;
    const scratch = tempDir('signal-desk-compose-');
    // Each node's port 3000 on a random loopback port, for this test only: in compose.yaml
    // nginx is the only way in, since the nodes trust X-Forwarded-* (TRUST_PROXY=true).
    const override = join(scratch.path, 'compose.test.yaml');
    let env: NodeJS.ProcessEnv = process.env;
    const compose = (args: readonly string[], timeoutMs = 60_000) =>
      run('docker', ['compose', '-p', project, '-f', 'compose.yaml', '-f', override, ...args], { env, timeoutMs });

    let nginx = '';
    let admin: Account;
    let subscriberToken = '';

    /** The host address of a node's port 3000. */
    async function nodeUrl(service: string): Promise<string> {
      const out = expectSuccess(`docker compose port ${service}`, await compose(['port', service, '3000'])).trim();
      const [, host, port] = /^(.*):(\d+)$/.exec(out) ?? [];
      if (!port) throw new Error(`docker compose port ${service} 3000 printed ${JSON.stringify(out)}`);
      // Published on 127.0.0.1 by the override; a wildcard address means loopback works too.
      return `http://${!host || host === '0.0.0.0' || host.includes('::') ? '127.0.0.1' : host}:${port}`;
    }

    async function logsOf(service: string): Promise<string> {
      return (await compose(['logs', '--no-color', service])).stdout;
    }

    async function waitHealthy(service: string): Promise<void> {
      const id = expectSuccess(`docker compose ps ${service}`, await compose(['ps', '-q', service])).trim();
      if (!id) throw new Error(`${service} has no container`);
      const deadline = Date.now() + START_TIMEOUT_MS;
      let status = '';
      while (Date.now() < deadline) {
        const inspect = await run('docker', ['inspect', '--format', '{{.State.Health.Status}}', id], { env });
        status = inspect.stdout.trim();
        if (status === 'healthy') return;
        await sleep(1000);
      }
      throw new Error(
        `${service} is ${status || 'not running'} after ${START_TIMEOUT_MS / 1000} s:\n${await logsOf(service)}`,
      );
    }

    async function waitAnswering(url: string): Promise<void> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          if ((await fetch(url)).ok) return;
        } catch {
          /* not listening yet */
        }
        if (Date.now() > deadline) throw new Error(`${url} did not answer within 30 s:\n${await logsOf('nginx')}`);
        await sleep(250);
      }
    }

    before(
      async () => {
        const port = await freePort();
        // The runner may set LOG_LEVEL=silent: the setup code is read from the nodes' log.
        env = { ...process.env, SIGNAL_DESK_PORT: `127.0.0.1:${port}`, LOG_LEVEL: 'info' };
        writeFileSync(
          override,
          [
            'services:',
            '  signal-desk-1:',
            '    ports: ["127.0.0.1::3000"]',
            '  signal-desk-2:',
            '    ports: ["127.0.0.1::3000"]',
            '',
          ].join('\n'),
        );
        nginx = `http://127.0.0.1:${port}`;

        const buildStarted = Date.now();
        const build = await compose(['build'], BUILD_TIMEOUT_MS);
        console.log(`docker compose build took ${((Date.now() - buildStarted) / 1000).toFixed(1)} s`);
        expectSuccess('docker compose build', build);

        const upStarted = Date.now();
        expectSuccess('docker compose up', await compose(['up', '-d', '--build'], START_TIMEOUT_MS));
        await waitHealthy('signal-desk-1');
        await waitHealthy('signal-desk-2');
        await waitAnswering(`${nginx}/readyz`);
        console.log(`the stack was up ${((Date.now() - upStarted) / 1000).toFixed(1)} s after the build`);

        // Every node prints the same one-time code; setup goes through nginx like a browser's.
        const code = /"setupCode":"([^"]+)"/.exec(await logsOf('signal-desk-1'))?.[1];
        assert.ok(code, 'signal-desk-1 logged a setup code');
        const setup = await new Api(nginx).post('/api/setup', {
          email: 'admin@example.test',
          password: PASSWORD,
          name: 'Admin',
          setupCode: code,
        });
        assert.equal(setup.status, 201, JSON.stringify(setup.body));
        admin = { api: new Api(nginx, setup.body.token), token: setup.body.token, user: setup.body.user };

        const channel = await admin.api.post('/api/channels', { slug: 'deploy', name: 'Deploy' });
        assert.equal(channel.status, 201, JSON.stringify(channel.body));
        const email = 'subscriber@example.test';
        const user = await admin.api.post('/api/users', {
          email,
          password: PASSWORD,
          role: 'subscriber',
          channels: ['deploy'],
        });
        assert.equal(user.status, 201, JSON.stringify(user.body));
        const login = await new Api(nginx).post('/api/auth/login', { email, password: PASSWORD });
        assert.equal(login.status, 200, JSON.stringify(login.body));
        subscriberToken = login.body.token;
      },
      { timeout: BEFORE_TIMEOUT_MS },
    );

    const sockets: Subscriber[] = [];
    after(
      async () => {
        sockets.forEach((s) => s.close());
        const down = await compose(['down', '-v', '--remove-orphans', '--timeout', '10'], AFTER_TIMEOUT_MS - 10_000);
        if (down.code !== 0) console.warn(`docker compose down failed:\n${down.stderr}`);
        scratch.remove();
        await stopOwnDaemon();
      },
      { timeout: AFTER_TIMEOUT_MS },
    );

    test(
      'signals published through nginx reach a subscriber on node 2, and after node 2 stops, on node 1 from its lastSeq',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const published: Array<{ id: string; seq: number }> = [];
        const publishSome = async (count: number) => {
          for (let i = 0; i < count; i++)
            published.push(await publish(admin, 'deploy', { notes: `deploy ${published.length + 1}` }));
        };

        const onNode2 = connect({ url: await nodeUrl('signal-desk-2') }, { token: subscriberToken, lastSeq: 0 });
        sockets.push(onNode2);
        await onNode2.waitLive();
        await publishSome(5);
        await onNode2.waitFor((events) => events.length >= 5, 20_000);
        await sleep(300); // anything extra (a duplicate) would arrive now
        assert.deepEqual(received(onNode2.events), received(published));

        // The node the subscriber is on goes away; nginx keeps serving through node 1, and two
        // signals are published while the subscriber is away.
        expectSuccess('docker compose stop signal-desk-2', await compose(['stop', 'signal-desk-2'], 60_000));
        await onNode2.waitFor(() => !onNode2.socket.connected, 10_000);
        const lastSeq = onNode2.lastSeq();
        assert.equal(lastSeq, published.at(-1)!.seq);
        await publishSome(2);

        const onNode1 = connect({ url: await nodeUrl('signal-desk-1') }, { token: subscriberToken, lastSeq });
        sockets.push(onNode1);
        await onNode1.waitLive();
        await publishSome(3);
        await onNode1.waitFor((events) => events.length >= 5, 20_000);
        await sleep(300);

        // All 10, in order, once: what the subscriber holds, what was acknowledged and the log.
        const holds = [...onNode2.events, ...onNode1.events];
        assert.equal(published.length, 10);
        assert.deepEqual(received(holds), received(published));
        const log = await admin.api.get('/api/events?after=0&limit=100&channel=deploy');
        assert.equal(log.status, 200);
        assert.deepEqual(received(holds), received(log.body.events));
        assert.ok(
          holds.every((e, i) => i === 0 || e.seq > holds[i - 1]!.seq),
          'strictly ascending seq',
        );
      },
    );

    test(
      'through nginx, a Socket.IO WebSocket and an event stream replay the log, then deliver live',
      { timeout: NGINX_TEST_TIMEOUT_MS },
      async () => {
        const log = await admin.api.get('/api/events?after=0&limit=100&channel=deploy');
        assert.equal(log.status, 200);
        const socket = connect({ url: nginx }, { token: subscriberToken, lastSeq: 0 });
        sockets.push(socket);
        await socket.waitLive();
        const stream = await openSse(`${nginx}/api/stream?after=0`, { authorization: `Bearer ${subscriberToken}` });
        try {
          assert.equal(stream.status, 200);
          await stream.waitFor((messages) => messages.some((m) => m.event === 'live'));
          const want = received([...log.body.events, await publish(admin, 'deploy', { notes: 'through nginx' })]);
          const streamed = () =>
            stream.messages.filter((m) => m.event !== 'live').map((m) => JSON.parse(m.data) as StoredEvent);
          await socket.waitFor((events) => events.length >= want.length);
          await stream.waitFor(() => streamed().length >= want.length);
          await sleep(300);
          assert.deepEqual(received(socket.events), want);
          assert.deepEqual(received(streamed()), want);
        } finally {
          stream.close();
          await stream.closed;
        }
      },
    );
  },
);
