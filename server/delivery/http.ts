/**
 * The one HTTP client every delivery adapter uses to reach the outside world.
 *
 * Guarantees:
 * - Only `http:` and `https:` URLs are requested.
 * - Unless `allowPrivate`, no connection is opened to an address that is not public unicast
 *   (loopback, RFC 1918, link-local with the cloud metadata address, unique-local, CGNAT,
 *   multicast, unspecified, broadcast, reserved, or an IPv4-mapped IPv6 form of any of these).
 *   The check sits inside the agents' own connect step: every new connection resolves its host
 *   once, refuses if any answer is not public, and connects to the very addresses it checked, so
 *   a second DNS answer cannot swap a private address in (DNS rebinding). This holds for callers
 *   that only borrow an agent (`agentFor`, as the Web Push library does), too.
 * - Redirects are never followed: a 3xx is an answer like any other.
 * - `timeoutMs` bounds a whole request, DNS and connect to the last byte; on expiry it is aborted.
 * - One keep-alive agent per scheme, reused; `extraCa` is trusted beside Node's root store.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { rootCertificates } from 'node:tls';
import ipaddr from 'ipaddr.js';
import type { SendResult } from './adapter.js';

export interface HttpAnswer {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body as text, cut at `ANSWER_BODY_MAX_BYTES`. */
  body: string;
}

export interface HttpRequestInit {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
}

export interface GuardedHttp {
  /** Resolves with any answer, 3xx and 5xx included; rejects on a refusal (`HttpRefused`), a network error or the timeout. */
  request(url: string, init: HttpRequestInit): Promise<HttpAnswer>;
  /** Why `url` would be refused (scheme, or an address that is not public), or null; DNS failures are not refusals. */
  checkTarget(url: string): Promise<string | null>;
  /** The guarded keep-alive agent for the URL's scheme, for libraries that make their own requests. */
  agentFor(url: string): http.Agent;
  /** Closes the pooled connections. */
  close(): void;
}

/** A target refused before anything was sent to it; the message says why. */
export class HttpRefused extends Error {
  override readonly name = 'HttpRefused';
}

/** What a host name resolves to: all its addresses, as `dns.lookup(host, { all: true })` gives them. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface GuardedHttpOptions {
  /** Allow loopback and private targets (DESTINATIONS_ALLOW_PRIVATE), for installations that deliver inside their network. */
  allowPrivate: boolean;
  /** PEM certificates trusted in addition to Node's root store (an internal CA). */
  extraCa?: string[];
  userAgent: string;
  /** The DNS; `dns.lookup` with all addresses unless given (tests give one to play a rebinding resolver). */
  resolve?: Resolver;
}

export const ANSWER_BODY_MAX_BYTES = 64 * 1024;

const defaultResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

export function createGuardedHttp(options: GuardedHttpOptions): GuardedHttp {
  const guard = new TargetGuard(options.allowPrivate, options.resolve ?? defaultResolver);
  // Idle connections are let go after 4 s, before the 5 s after which Node servers (and many
  // others) close them, so a reused connection is rarely one the far side is closing.
  const agentOptions = { keepAlive: true, timeout: 4000, lookup: guard.lookup };
  const agents = {
    'http:': new GuardedHttpAgent(guard, agentOptions),
    'https:': new GuardedHttpsAgent(guard, {
      ...agentOptions,
      ...(options.extraCa?.length ? { ca: [...rootCertificates, ...options.extraCa] } : {}),
    }),
  };

  return {
    request: async (url, init) => {
      const target = parseTarget(url);
      if (typeof target === 'string') throw new HttpRefused(target);
      const headers = { 'user-agent': options.userAgent, ...lowerCaseKeys(init.headers ?? {}) };
      return send(target, agents[target.protocol], { ...init, headers });
    },
    checkTarget: async (url) => {
      const target = parseTarget(url);
      return typeof target === 'string' ? target : guard.check(target.hostname);
    },
    agentFor: (url) => {
      const target = parseTarget(url);
      // An unusable URL still gets an agent: the request through it fails on its own terms.
      return typeof target === 'string' ? agents['https:'] : agents[target.protocol];
    },
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Which addresses may be reached

interface Target extends URL {
  protocol: 'http:' | 'https:';
}

/** The URL to request, or why it is refused. */
function parseTarget(url: string): Target | string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `${parsed.protocol} URLs are not allowed: only http: and https:`;
  }
  return parsed as Target;
}

/** Ranges whose addresses are named "private" in refusals; everything else not unicast is "not public". */
const PRIVATE_RANGES = new Set(['loopback', 'private', 'linkLocal', 'uniqueLocal', 'carrierGradeNat']);

/**
 * What kind of address `address` is when it is no public unicast address ("a private address
 * (loopback)", "not a public address (multicast)"), or null when it is one.
 */
export function nonPublicKind(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  const parsed = ipaddr.parse(address);
  if (parsed instanceof ipaddr.IPv6 && (parsed.range() === 'ipv4Mapped' || isNat64(parsed))) {
    // The IPv4 address inside is the one actually reached.
    const inside = ipv4Inside(parsed);
    const kind = nonPublicKind(inside.toString());
    return kind === null ? null : `${kind}, as ${inside.toString()}`;
  }
  const range = parsed.range();
  if (range === 'unicast') return null;
  return `${PRIVATE_RANGES.has(range) ? 'a private address' : 'not a public address'} (${range})`;
}

/** 64:ff9b::/96, the well-known NAT64 prefix an IPv6-only network reaches IPv4 hosts through. */
function isNat64(address: ipaddr.IPv6): boolean {
  return address.match(ipaddr.IPv6.parse('64:ff9b::'), 96);
}

function ipv4Inside(address: ipaddr.IPv6): ipaddr.IPv4 {
  const bytes = address.toByteArray().slice(12);
  return new ipaddr.IPv4(bytes);
}

/** Decides which hosts may be connected to, and resolves names for the agents so they connect where it checked. */
class TargetGuard {
  constructor(
    private readonly allowPrivate: boolean,
    private readonly resolve: Resolver,
  ) {}

  /**
   * Why `hostname` (a URL's, IPv6 in brackets) is refused, or null. A name that does not resolve
   * now is not refused: that is the network's answer, which a send meets and retries.
   */
  async check(hostname: string): Promise<string | null> {
    const host = unbracket(hostname);
    const literal = this.checkLiteral(host);
    if (literal !== undefined) return literal;
    if (this.allowPrivate) return null;
    try {
      await this.addresses(host);
      return null;
    } catch (error) {
      return error instanceof HttpRefused ? error.message : null;
    }
  }

  /** For an IP literal: why it is refused, or null; undefined for a name. */
  checkLiteral(host: string): string | null | undefined {
    if (!ipaddr.isValid(host)) return undefined;
    const kind = this.allowPrivate ? null : nonPublicKind(host);
    return kind === null ? null : refusalText(`${host} is ${kind}`);
  }

  /** The addresses `host` resolves to, each of them allowed; otherwise an `HttpRefused`. */
  async addresses(host: string): Promise<LookupAddress[]> {
    const addresses = await this.resolve(host);
    if (addresses.length === 0) throw new Error(`${host} has no address`);
    if (this.allowPrivate) return addresses;
    for (const { address } of addresses) {
      const kind = nonPublicKind(address);
      if (kind !== null) throw new HttpRefused(refusalText(`${host} resolves to ${address}, ${kind}`));
    }
    return addresses;
  }

  /** A `net.connect` lookup: one resolution, checked, and its own addresses handed to the connect. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.addresses(hostname).then(
      (addresses) => {
        if (options.all) return callback(null, addresses);
        const first = addresses.find((a) => !options.family || a.family === options.family) ?? addresses[0];
        if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
        callback(null, first.address, first.family);
      },
      (error: unknown) => callback(asErrno(error), '', 0),
    );
  };
}

function refusalText(what: string): string {
  return `refused: ${what}; only public addresses are delivered to (DESTINATIONS_ALLOW_PRIVATE=true allows private ones)`;
}

function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function asErrno(error: unknown): NodeJS.ErrnoException {
  return error instanceof Error ? error : new Error(String(error));
}

// ---------------------------------------------------------------------------------------------
// Agents: the lookup covers names; IP literals never reach a lookup, so connect checks them.

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

function refuseLiteral(guard: TargetGuard, host: string | null | undefined, callback?: ConnectCallback): boolean {
  const reason = guard.checkLiteral(unbracket(host ?? ''));
  if (!reason) return false;
  // The agent reports this to the request as its connection error; no socket is made.
  callback?.(new HttpRefused(reason), undefined as unknown as Duplex);
  return true;
}

class GuardedHttpAgent extends http.Agent {
  constructor(
    private readonly guard: TargetGuard,
    options: http.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(options: http.ClientRequestArgs, callback?: ConnectCallback): Duplex | null | undefined {
    if (refuseLiteral(this.guard, options.host ?? options.hostname, callback)) return undefined;
    return super.createConnection(options, callback);
  }
}

class GuardedHttpsAgent extends https.Agent {
  constructor(
    private readonly guard: TargetGuard,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(options: https.RequestOptions, callback?: ConnectCallback): Duplex | null | undefined {
    if (refuseLiteral(this.guard, options.host ?? options.hostname, callback)) return undefined;
    return super.createConnection(options, callback);
  }
}

// ---------------------------------------------------------------------------------------------
// One request

function send(
  target: Target,
  agent: http.Agent,
  init: HttpRequestInit & { headers: Record<string, string> },
): Promise<HttpAnswer> {
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const request = transport.request(target, { method: init.method, headers: init.headers, agent });
    const timer = setTimeout(() => {
      const error = new Error(`timed out after ${init.timeoutMs} ms`);
      finish(() => reject(error));
      request.destroy(error);
    }, init.timeoutMs);
    request.on('error', (error) => finish(() => reject(error)));
    request.on('response', (response) => {
      readAnswer(response).then(
        (answer) => finish(() => resolve(answer)),
        (error: unknown) => finish(() => reject(asErrno(error))),
      );
    });
    request.end(init.body);
  });
}

/** The answer with at most `ANSWER_BODY_MAX_BYTES` of its body; a longer body is not read further. */
function readAnswer(response: http.IncomingMessage): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void =>
      resolve({
        status: response.statusCode ?? 0,
        headers: flattenHeaders(response.headers),
        body: Buffer.concat(chunks).subarray(0, ANSWER_BODY_MAX_BYTES).toString('utf8'),
      });
    response.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size < ANSWER_BODY_MAX_BYTES) return;
      // Enough to explain any answer; the rest would only hold the connection.
      response.destroy();
      done();
    });
    response.on('end', done);
    response.on('error', reject);
  });
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

// ---------------------------------------------------------------------------------------------
// Shared by the adapters

/** The message of anything thrown, for an attempt's error. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/** `Retry-After` (delay-seconds or an HTTP date) in milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** The first `max` characters of `text`, for an error message. */
export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Runs one send, turning anything thrown into a retry (an adapter never throws); with a
 * `secret`, blanks it in the error, which the admin UI and the logs show.
 */
export async function settle(work: () => Promise<SendResult>, secret?: string): Promise<SendResult> {
  let result: SendResult;
  try {
    result = await work();
  } catch (error) {
    result = { kind: 'retry', status: null, error: errorText(error) };
  }
  return secret && result.kind !== 'delivered' ? { ...result, error: redact(result.error, secret) } : result;
}

/** `text` with every occurrence of `secret` blanked. */
export function redact(text: string, secret: string): string {
  return secret === '' ? text : text.split(secret).join('<redacted>');
}
