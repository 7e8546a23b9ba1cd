/**
 * A real Web Push service for tests: the `web-push-testing` server (express, run as a child
 * process from node_modules) behind a small HTTPS front in this process, which adds what a
 * browser vendor's push service enforces and that package does not.
 *
 * web-push-testing itself: creates subscriptions with a real P-256 key pair and auth secret,
 * decrypts every push with them (http_ece, so a payload that is not encrypted for that
 * subscription is refused), answers 410 once a subscription is expired, and, for a
 * subscription made with an applicationServerKey, checks that `k` equals that key and that
 * the JWT's ES256 signature verifies with it and its `exp` (and `nbf`), when present, hold.
 * It does not check `aud`, `sub`, that `exp` exists or is at most 24 h ahead, it accepts
 * aesgcm as well, it refuses with 400 rather than 401/403, and it speaks plain HTTP, which
 * `web-push` cannot send to (it always uses https.request).
 *
 * Guarantees:
 * - `startPushService()` resolves once the child has logged that it listens on the port
 *   chosen for it and answers POST /status. The child exits with this process however that
 *   ends (its IPC channel closing, even on SIGKILL); its log, the CA file and anything it
 *   writes live in a fresh temp directory, removed by `close()` or at a normal exit (one by a
 *   signal leaves the directory behind).
 * - The endpoint handed out is `https://127.0.0.1:<port>/notify/<clientHash>` on the front,
 *   whose self-signed certificate this process trusts (https.globalAgent) while any service
 *   runs, so unmodified `webpush.sendNotification(...)` calls reach it. fetch() does not use
 *   that agent; a sender in a child process needs NODE_EXTRA_CA_CERTS=`caFile`.
 * - A push is accepted (201, and readable through `notifications`) only if it is at most
 *   4096 bytes, `Content-Encoding: aes128gcm`, and carries a VAPID JWT (RFC 8292 `vapid t=,k=`
 *   or the older `WebPush` + `Crypto-Key: p256ecdsa=`) signed ES256 by the key the
 *   subscription was made with, `aud` = `url`, `exp` in the future and at most 24 h ahead,
 *   `sub` a mailto: or https: URL, and decrypts with the subscription's keys. Otherwise it
 *   answers 401 (no VAPID), 403 (invalid VAPID), 404, 410, 413 or 415 like a real push service,
 *   or 400 (does not decrypt), and nothing is delivered.
 * - Every push request, accepted or not, is recorded in order by `pushes()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, globalAgent, type Server } from 'node:https';
import { createRequire } from 'node:module';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

/** What `PushSubscription.toJSON()` gives in a browser, i.e. what the product receives and stores. */
export interface PushSubscriptionJson {
  endpoint: string;
  expirationTime: number | null;
  keys: { p256dh: string; auth: string };
}

export interface Subscribed {
  subscription: PushSubscriptionJson;
  /** The device's handle: read its messages, expire it. */
  clientHash: string;
}

/** One push request as the push service answered it. */
export interface PushRecord {
  clientHash: string;
  /** 201 accepted; 401/403 VAPID missing/invalid; 404 unknown; 410 expired; 413 too large; 415 not aes128gcm; 400 refused by web-push-testing. */
  status: number;
  /** Why it was refused, as told to the sender; undefined when accepted. */
  reason: string | undefined;
  ttl: string | undefined;
  urgency: string | undefined;
  topic: string | undefined;
  contentEncoding: string | undefined;
  bodyBytes: number;
}

export interface PushService {
  /** Origin senders talk to (`https://127.0.0.1:<port>`), hence the `aud` a VAPID JWT must name. */
  readonly url: string;
  /** The front's self-signed certificate, PEM, for an explicit `new https.Agent({ ca })`. */
  readonly ca: string;
  /** `ca` as a file, for NODE_EXTRA_CA_CERTS when the sender is a child process. */
  readonly caFile: string;
  /** Subscribes a new device the way a browser does for `pushManager.subscribe({ applicationServerKey })`. */
  subscribe(applicationServerKey: string): Promise<Subscribed>;
  /** Decrypted payloads delivered so far, in order; JSON ones parsed, others as strings. */
  notifications(clientHash: string): Promise<unknown[]>;
  /** Resolves with `notifications` once there are at least `count`; rejects after `timeoutMs`. */
  waitForNotifications(clientHash: string, count: number, timeoutMs?: number): Promise<unknown[]>;
  /** Unsubscribes the device: later pushes to it get 410 Gone. */
  expire(clientHash: string): Promise<void>;
  /** Every push request so far, in arrival order, optionally for one device. */
  pushes(clientHash?: string): PushRecord[];
  /** Stops the front and the child and removes the temp directory. Idempotent. */
  close(): Promise<void>;
}

/** RFC 8030 §7.2: push services must take 4096 bytes and may refuse more, and the big ones do. */
const MAX_ENCRYPTED_BYTES = 4096;
/** RFC 8292 §2: `exp` must not be more than 24 hours from the time of the request. */
const MAX_VAPID_LIFETIME_S = 24 * 60 * 60;
const START_TIMEOUT_MS = 10_000;
const START_ATTEMPTS = 3;

const serverScript = createRequire(import.meta.url).resolve('web-push-testing/src/bin/server.js');
// The child cannot watch this process's pid portably, but its IPC channel closes whenever this
// process goes, including on SIGKILL, so exiting on 'disconnect' means no server outlives its test.
const exitWithParent = 'data:text/javascript,process.on("disconnect",()=>process.exit(0))';

export async function startPushService(): Promise<PushService> {
  const dir = mkdtempSync(join(tmpdir(), 'signal-desk-push-'));
  try {
    const identity = tlsIdentity();
    const caFile = join(dir, 'push-service-ca.pem');
    writeFileSync(caFile, identity.cert);
    const upstream = await startUpstream(dir);
    const service = new LocalPushService(dir, upstream, identity, caFile);
    await service.listen();
    return service;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

interface Upstream {
  child: ChildProcess;
  origin: string;
  logFile: string;
}

interface Verdict {
  status: number;
  reason: string | undefined;
}

const running = new Set<LocalPushService>();
let exitHookInstalled = false;

class LocalPushService implements PushService {
  url = '';
  readonly ca: string;
  private readonly front: Server;
  private readonly subscriptions = new Map<string, { applicationServerKey: string }>();
  private readonly records: PushRecord[] = [];
  private closing: Promise<void> | null = null;

  constructor(
    private readonly dir: string,
    private readonly upstream: Upstream,
    identity: TlsIdentity,
    readonly caFile: string,
  ) {
    this.ca = identity.cert;
    this.front = createHttpsServer({ cert: identity.cert, key: identity.key }, (req, res) => {
      // Only a sender hanging up mid-body gets here; there is no one left to answer.
      this.handle(req, res).catch(() => res.destroy());
    });
  }

  async listen(): Promise<void> {
    this.front.listen(0, '127.0.0.1');
    await once(this.front, 'listening');
    // Unreferenced like the child, so a test that forgets close() still ends; the exit hook cleans up.
    this.front.unref();
    this.url = `https://127.0.0.1:${(this.front.address() as AddressInfo).port}`;
    trustCertificate(this.ca);
    if (!exitHookInstalled) {
      process.on('exit', () => running.forEach((service) => service.abandon()));
      exitHookInstalled = true;
    }
    running.add(this);
  }

  async subscribe(applicationServerKey: string): Promise<Subscribed> {
    const data = await this.call('/subscribe', { applicationServerKey });
    const { clientHash, keys } = data as { clientHash?: unknown; keys?: { p256dh?: unknown; auth?: unknown } };
    if (typeof clientHash !== 'string' || typeof keys?.p256dh !== 'string' || typeof keys.auth !== 'string') {
      throw new Error(`web-push-testing /subscribe returned an unexpected shape: ${JSON.stringify(data)}`);
    }
    this.subscriptions.set(clientHash, { applicationServerKey });
    return {
      subscription: {
        endpoint: `${this.url}/notify/${clientHash}`,
        expirationTime: null,
        keys: { p256dh: keys.p256dh, auth: keys.auth },
      },
      clientHash,
    };
  }

  async notifications(clientHash: string): Promise<unknown[]> {
    const data = await this.call('/get-notifications', { clientHash });
    const messages = (data as { messages?: unknown }).messages;
    if (!Array.isArray(messages)) throw new Error(`web-push-testing returned no messages: ${JSON.stringify(data)}`);
    return messages.map((message) => {
      if (typeof message !== 'string') return message;
      try {
        return JSON.parse(message) as unknown;
      } catch {
        return message;
      }
    });
  }

  async waitForNotifications(clientHash: string, count: number, timeoutMs = 5_000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const received = await this.notifications(clientHash);
      if (received.length >= count) return received;
      if (Date.now() > deadline) {
        throw new Error(
          `${received.length} of ${count} notifications for ${clientHash} within ${timeoutMs} ms; ` +
            `pushes: ${JSON.stringify(this.pushes(clientHash).map((p) => [p.status, p.reason]))}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async expire(clientHash: string): Promise<void> {
    // web-push-testing answers an unknown hash with 400 and then throws trying to answer 200 too.
    if (!this.subscriptions.has(clientHash)) throw new Error(`no subscription ${clientHash}`);
    await this.call(`/expire-subscription/${clientHash}`, {});
  }

  pushes(clientHash?: string): PushRecord[] {
    return this.records.filter((record) => clientHash === undefined || record.clientHash === clientHash);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** What the exit hook can still do synchronously when close() was never awaited. */
  abandon(): void {
    this.upstream.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async shutdown(): Promise<void> {
    running.delete(this);
    const closed = new Promise((resolve) => this.front.close(resolve));
    this.front.closeAllConnections();
    await closed;
    const { child } = this.upstream;
    if (child.exitCode === null && child.signalCode === null) {
      // Referenced again so this process waits for the exit rather than ending mid-close.
      child.ref();
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const stubborn = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(stubborn);
    }
    untrustCertificate();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async call(path: string, body: object): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.upstream.origin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw new Error(`web-push-testing unreachable (${String(err)}); its log:\n${logTail(this.upstream.logFile)}`);
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`web-push-testing ${path} answered ${res.status}: ${text}`);
    return text === '' || text === 'OK' ? undefined : (JSON.parse(text) as { data?: unknown }).data;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const clientHash = /^\/notify\/([^/?]+)$/.exec(req.url ?? '')?.[1];
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    let verdict: Verdict;
    try {
      verdict =
        req.method === 'POST' && clientHash !== undefined
          ? await this.judge(clientHash, req.headers, body)
          : { status: 404, reason: 'not a push resource' };
    } catch (err) {
      verdict = { status: 502, reason: `web-push-testing failed: ${String(err)}` };
    }
    if (clientHash !== undefined) {
      this.records.push({
        clientHash,
        ...verdict,
        ttl: header(req.headers, 'ttl'),
        urgency: header(req.headers, 'urgency'),
        topic: header(req.headers, 'topic'),
        contentEncoding: header(req.headers, 'content-encoding'),
        bodyBytes: body.length,
      });
    }
    if (verdict.reason === undefined) res.writeHead(verdict.status).end();
    else res.writeHead(verdict.status, { 'content-type': 'application/json' }).end(JSON.stringify(verdict));
  }

  /** The checks a real push service makes before accepting, in the order it can make them. */
  private async judge(clientHash: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Verdict> {
    const subscription = this.subscriptions.get(clientHash);
    if (!subscription) return { status: 404, reason: 'no such push subscription' };
    if (body.length > MAX_ENCRYPTED_BYTES) {
      return { status: 413, reason: `${body.length} bytes, over ${MAX_ENCRYPTED_BYTES}` };
    }
    if (header(headers, 'content-encoding') !== 'aes128gcm') {
      return { status: 415, reason: `Content-Encoding ${header(headers, 'content-encoding')}, not aes128gcm` };
    }
    const credentials = readVapidCredentials(headers);
    if (!credentials) return { status: 401, reason: 'no VAPID authorization' };
    const refusal = vapidRefusal(credentials, subscription.applicationServerKey, this.url);
    if (refusal !== undefined) return { status: 403, reason: refusal };

    const forwarded: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-encoding': 'aes128gcm',
      // web-push-testing only parses the RFC 8292 form with aes128gcm.
      authorization: `vapid t=${credentials.token}, k=${credentials.key}`,
    };
    const ttl = header(headers, 'ttl');
    if (ttl !== undefined) forwarded.ttl = ttl;
    const res = await fetch(`${this.upstream.origin}/notify/${clientHash}`, {
      method: 'POST',
      headers: forwarded,
      body: new Uint8Array(body),
    });
    const text = await res.text();
    if (res.status === 201) return { status: 201, reason: undefined };
    let reason = text;
    try {
      const parsed = JSON.parse(text) as { reason?: string; error?: { message?: string } };
      reason = parsed.error?.message ?? parsed.reason ?? text;
    } catch {}
    return { status: res.status, reason };
  }
}

async function startUpstream(dir: string): Promise<Upstream> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const logFile = join(dir, `web-push-testing-${port}.log`);
    const log = openSync(logFile, 'a');
    // Not the package's `start` command: that one detaches the server, records its pid with
    // node-persist under the cwd, and exits, so the server would not be this test's child.
    const child = spawn(process.execPath, ['--import', exitWithParent, serverScript, String(port)], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', log, log, 'ipc'],
    });
    closeSync(log);
    child.unref();
    child.channel?.unref();
    const origin = `http://127.0.0.1:${port}`;
    const outcome = await waitUntilServing(child, port, origin, logFile);
    if (outcome === 'serving') return { child, origin, logFile };
    child.kill('SIGKILL');
    if (outcome !== 'port-taken' || attempt === START_ATTEMPTS) {
      throw new Error(`web-push-testing did not start (${outcome}); its log:\n${logTail(logFile)}`);
    }
  }
}

async function waitUntilServing(
  child: ChildProcess,
  port: number,
  origin: string,
  logFile: string,
): Promise<'serving' | 'port-taken' | 'exited' | 'timed out'> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const log = readFileSync(logFile, 'utf8');
    if (child.exitCode !== null || child.signalCode !== null) {
      return log.includes('EADDRINUSE') ? 'port-taken' : 'exited';
    }
    // The listen line first: between freePort() and the child's bind another process may take
    // the port, and its /status must not pass for this child's.
    if (log.includes(`Server running on port ${port}`)) {
      try {
        if ((await fetch(`${origin}/status`, { method: 'POST' })).ok) return 'serving';
      } catch {}
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return 'timed out';
}

/** A port free right now, on the same all-interfaces address web-push-testing binds. */
async function freePort(): Promise<number> {
  const probe = createNetServer().listen(0);
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function logTail(logFile: string): string {
  return existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '(no log)';
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

// ---------------------------------------------------------------------------------------------
// VAPID (RFC 8292)

interface VapidCredentials {
  token: string;
  key: string;
}

/** The JWT and public key from either header form; undefined when there is no VAPID at all. */
function readVapidCredentials(headers: IncomingHttpHeaders): VapidCredentials | undefined {
  const match = /^(\S+)\s+(.*)$/s.exec(header(headers, 'authorization') ?? '');
  const scheme = match?.[1]?.toLowerCase();
  const rest = match?.[2] ?? '';
  if (scheme === 'vapid') {
    const params = parseParams(rest, ',');
    return { token: params.get('t') ?? '', key: params.get('k') ?? '' };
  }
  if (scheme === 'webpush') {
    // The pre-RFC draft form: the JWT alone here, the key in Crypto-Key beside the aesgcm `dh`.
    const cryptoKey = parseParams(header(headers, 'crypto-key') ?? '', /[;,]/);
    return { token: rest.trim(), key: cryptoKey.get('p256ecdsa') ?? '' };
  }
  return undefined;
}

function parseParams(text: string, separator: string | RegExp): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of text.split(separator)) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return params;
}

/** Why the credentials do not authorise a push to this subscription; undefined when they do. */
function vapidRefusal({ token, key }: VapidCredentials, subscribedKey: string, audience: string): string | undefined {
  const expectedKey = Buffer.from(subscribedKey, 'base64url');
  if (!Buffer.from(key, 'base64url').equals(expectedKey)) {
    return 'k is not the applicationServerKey the subscription was made with';
  }
  const [encodedHeader, encodedClaims, encodedSignature, ...extra] = token.split('.');
  if (encodedHeader === undefined || encodedClaims === undefined || encodedSignature === undefined || extra.length) {
    return 'the VAPID token is not a compact JWS';
  }
  const jwtHeader = decodeSegment(encodedHeader);
  const claims = decodeSegment(encodedClaims);
  if (jwtHeader?.alg !== 'ES256') return 'the VAPID token is not signed with ES256';
  const signed = Buffer.from(`${encodedHeader}.${encodedClaims}`);
  if (!verifiesEs256(signed, Buffer.from(encodedSignature, 'base64url'), expectedKey)) {
    return 'the VAPID token signature does not verify with the subscription key';
  }
  if (!claims) return 'the VAPID claims are not a JSON object';
  if (claims.aud !== audience) return `aud ${JSON.stringify(claims.aud)} is not this push service (${audience})`;
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= now) return 'the VAPID token has expired or has no exp';
  if (claims.exp > now + MAX_VAPID_LIFETIME_S) return 'the VAPID token expires more than 24 hours ahead';
  if (!isContactUri(claims.sub)) return `sub ${JSON.stringify(claims.sub)} is neither a mailto: nor an https: URL`;
  return undefined;
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** ES256 as JWS has it: SHA-256, signature as raw r||s, key as an uncompressed P-256 point. */
function verifiesEs256(signed: Buffer, signature: Buffer, rawPublicKey: Buffer): boolean {
  if (rawPublicKey.length !== 65 || rawPublicKey[0] !== 0x04 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: rawPublicKey.subarray(1, 33).toString('base64url'),
        y: rawPublicKey.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
    return verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

function isContactUri(sub: unknown): boolean {
  if (typeof sub !== 'string') return false;
  try {
    const { protocol } = new URL(sub);
    return protocol === 'mailto:' || protocol === 'https:';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// TLS: web-push only sends over HTTPS, so the front needs a certificate this process trusts.

interface TlsIdentity {
  cert: string;
  key: string;
}

let identity: TlsIdentity | undefined;

/** One self-signed P-256 certificate for 127.0.0.1 and localhost per process, built with node:crypto alone. */
function tlsIdentity(): TlsIdentity {
  if (identity) return identity;
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaWithSha256 = der(0x30, hex('06082a8648ce3d040302')); // OID 1.2.840.10045.4.3.2
  const commonName = hex('0603550403'); // OID 2.5.4.3
  const subjectAltName = hex('0603551d11'); // OID 2.5.29.17
  const name = der(0x30, der(0x31, der(0x30, commonName, der(0x0c, Buffer.from('signal-desk test push')))));
  const time = (ms: number) =>
    der(0x17, Buffer.from(new Date(ms).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
  const altNames = der(0x30, der(0x87, Buffer.from([127, 0, 0, 1])), der(0x82, Buffer.from('localhost')));
  const tbs = der(
    0x30,
    hex('a003020102'), // X.509 v3
    der(0x02, Buffer.from([0x01]), randomBytes(8)), // a leading 0x01 keeps the serial positive
    ecdsaWithSha256,
    name,
    der(0x30, time(Date.now() - 3_600_000), time(Date.now() + 7 * 86_400_000)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, der(0x30, der(0x30, subjectAltName, der(0x04, altNames)))),
  );
  const signature = der(0x03, Buffer.from([0]), sign('sha256', tbs, privateKey));
  const lines =
    der(0x30, tbs, ecdsaWithSha256, signature)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  identity = {
    cert: `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  return identity;
}

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

function hex(text: string): Buffer {
  return Buffer.from(text, 'hex');
}

let trustCount = 0;
let caBefore: (typeof globalAgent.options)['ca'];

// Through https.globalAgent, the agent web-push uses when given none, so product code under test
// needs no TLS option of its own; the system roots stay trusted beside it.
function trustCertificate(cert: string): void {
  if (trustCount++ > 0) return;
  caBefore = globalAgent.options.ca;
  globalAgent.options.ca = [...(caBefore === undefined ? rootCertificates : [caBefore].flat()), cert];
}

function untrustCertificate(): void {
  if (--trustCount > 0) return;
  if (caBefore === undefined) delete globalAgent.options.ca;
  else globalAgent.options.ca = caBefore;
}
