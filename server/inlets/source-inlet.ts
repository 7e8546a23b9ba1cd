/**
 * The inlet of webhook sources (`POST /hooks/tv/<secret>`): one request in, one answer and one
 * request-log entry out. In order: the source by the hash of its secret (unknown and disabled
 * look alike: 404), the address allowlist (403), the per-source rate shared by every node
 * (429), the body read as the API's own schemas read it (400), then the same idempotent append
 * as every other way in.
 *
 * Guarantees: the same alert never makes two events — an alert's own `id` is its idempotency
 * key for ever, and a body without one is keyed by its sha256 for ten minutes, since
 * TradingView resends the identical body when an answer fails; only the hash of a secret is
 * ever stored or compared, and no answer or log entry carries the secret; a request is logged
 * after it was answered, so the log never delays the acknowledgement, and `drain()` waits for
 * those writes before the store closes.
 */
import ipaddr from 'ipaddr.js';
import { idempotencyKeySchema, marketSchema, type Market } from '../../shared/schemas.js';
import { SOURCE_LIMITS } from '../../shared/sources.js';
import { sha256Hex, tokenHash } from '../auth/tokens.js';
import { AppError } from '../core/errors.js';
import type { Publisher } from '../core/policy.js';
import type { PublishOptions, SignalService } from '../core/signals.js';
import { toErrorResponse } from '../http/errors.js';
import type { SourceOutcome, SourceRecord, SourceRequest } from '../store/integrations.js';
import type { AppendResult, Store } from '../store/store.js';
import { readAlert, readWebhookBody, type AlertAction, type FieldKeys, type Reasons } from './tradingview.js';

/** How long an identical body without an `id` counts as the same alert. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;
const RATE_WINDOW_MS = 60_000;
const LOGGED_BODY_BYTES = 4096;
/** The logs are trimmed to their newest requests every this many requests this node took. */
const TRIM_EVERY = 50;

export function hookPath(secret: string): string {
  return `/hooks/tv/${secret}`;
}

/** Whether `address` is one of `allowed` or inside one of its CIDR ranges (IPv4-mapped IPv6 counts as IPv4). */
export function addressAllowed(address: string, allowed: readonly string[]): boolean {
  if (!ipaddr.isValid(address)) return false;
  const ip = ipaddr.process(address);
  return allowed.some((entry) => matches(ip, entry));
}

function matches(ip: ipaddr.IPv4 | ipaddr.IPv6, entry: string): boolean {
  try {
    if (entry.includes('/')) {
      const [range, bits] = ipaddr.parseCIDR(entry);
      if (ip.kind() === range.kind()) return ip.match(range, bits);
      return ip.kind() === 'ipv4' && (ip as ipaddr.IPv4).toIPv4MappedAddress().match(range, bits);
    }
    const other = ipaddr.process(entry);
    return other.kind() === ip.kind() && other.toNormalizedString() === ip.toNormalizedString();
  } catch {
    return false;
  }
}

export interface InletRequest {
  /** The secret from the URL path. */
  secret: string;
  /** The client address (`request.ip`, which honours TRUST_PROXY). */
  address: string;
  contentType: string | undefined;
  /** The body as received. */
  raw: string;
}

export interface InletAnswer {
  status: number;
  body: Record<string, unknown>;
  retryAfterSeconds?: number;
}

export type RequestEntry = Omit<SourceRequest, 'id'>;

export interface InletOutcome {
  answer: InletAnswer;
  /** What to write to the source's request log; null when no source matched. */
  entry: RequestEntry | null;
}

const NOT_FOUND: InletAnswer = { status: 404, body: { error: { code: 'not_found', message: 'not found' } } };

/** The request log keeps the body as received, cut to a few KB (on a character boundary). */
function loggedBody(raw: string): string {
  const bytes = Buffer.from(raw, 'utf8');
  if (bytes.length <= LOGGED_BODY_BYTES) return raw;
  return `${bytes
    .subarray(0, LOGGED_BODY_BYTES)
    .toString('utf8')
    .replace(/\uFFFD+$/, '')}…`;
}

/** The idempotency key of an alert: its own id for ever, else its body for a while. */
function dedupeOf(alertId: string | null, raw: string): { key: string; options: PublishOptions } {
  if (alertId) {
    const key = `tv:${alertId}`;
    return { key: idempotencyKeySchema.safeParse(key).success ? key : `tv:sha256:${sha256Hex(alertId)}`, options: {} };
  }
  return { key: `tv-body:${sha256Hex(raw)}`, options: { idempotencyWindowMs: DUPLICATE_WINDOW_MS } };
}

const publisherOf = (source: SourceRecord): Publisher => ({
  author: `source:${source.id}`,
  canPublishTo: (channel) => channel === source.channel,
});

function marketOf(value: string | null): Market | null {
  const market = marketSchema.safeParse(value);
  return market.success ? market.data : null;
}

export class SourceInlet {
  private received = 0;
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly deps: { store: Store; signals: SignalService; counted?: (outcome: SourceOutcome) => void },
    /** Failures nobody else hears of: a log write, a trim, a 5xx. Never given the secret. */
    private readonly onError: (error: unknown, what: string) => void,
  ) {}

  async receive(request: InletRequest, now = Date.now()): Promise<InletOutcome> {
    const source = await this.deps.store.sources.bySecretHash(tokenHash(request.secret));
    if (!source) return { answer: NOT_FOUND, entry: null };
    const log = (
      answer: InletAnswer,
      outcome: SourceOutcome,
      reasons: Reasons | null,
      eventId: string | null = null,
    ) => ({
      answer,
      entry: {
        sourceId: source.id,
        at: new Date(now).toISOString(),
        address: request.address,
        contentType: request.contentType ?? null,
        body: loggedBody(request.raw),
        status: answer.status,
        outcome,
        reasons,
        eventId,
      },
    });
    if (!source.enabled) return log(NOT_FOUND, 'refused', { source: 'is disabled' });
    if (source.allowedIps?.length && !addressAllowed(request.address, source.allowedIps)) {
      const reasons = { address: `${request.address} is not among the source's allowed addresses` };
      return log(refusal(403, 'forbidden', 'this address may not post to this source', reasons), 'forbidden', reasons);
    }
    const throttle = await this.deps.store.hitThrottle(`source:${source.id}`, now, RATE_WINDOW_MS);
    if (throttle.attempts > source.ratePerMinute) {
      const retryAfterSeconds = Math.max(1, Math.ceil((throttle.windowStart + RATE_WINDOW_MS - now) / 1000));
      const reasons = { rate: `more than ${source.ratePerMinute} requests in a minute` };
      const answer = {
        ...refusal(429, 'rate_limited', 'too many requests for this source', reasons),
        retryAfterSeconds,
      };
      return log(answer, 'rate_limited', reasons);
    }
    const result = await this.accept(source, request);
    return log(result.answer, result.outcome, result.reasons, result.eventId);
  }

  /** Writes a request-log entry in the background, and now and then trims every source's log. */
  record(entry: RequestEntry): void {
    const { sources } = this.deps.store;
    this.deps.counted?.(entry.outcome);
    this.track(sources.logRequest(entry), 'writing a source request to its log');
    if (++this.received % TRIM_EVERY === 0) {
      this.track(sources.trimRequests(SOURCE_LIMITS.requestsKept), 'trimming the source request logs');
    }
  }

  /** Resolves once every log write started so far has finished. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.writing]);
  }

  private track(work: Promise<unknown>, what: string): void {
    const done: Promise<void> = work.then(
      () => undefined,
      (error: unknown) => this.onError(error, what),
    );
    this.writing.add(done);
    void done.finally(() => this.writing.delete(done));
  }

  private async accept(
    source: SourceRecord,
    request: InletRequest,
  ): Promise<{ answer: InletAnswer; outcome: SourceOutcome; reasons: Reasons | null; eventId: string | null }> {
    const refused = (status: number, code: string, reasons: Reasons) => ({
      answer: refusal(status, code, 'the alert is no valid signal', reasons),
      outcome: 'refused' as const,
      reasons,
      eventId: null,
    });
    const body = readWebhookBody(request.raw, request.contentType);
    if (!body.ok)
      return refused(body.status, body.status === 415 ? 'unsupported_media_type' : 'validation_failed', body.reasons);
    const alert = readAlert(body.body, {
      channel: source.channel,
      market: marketOf(source.market),
      label: source.label,
    });
    if (!alert.ok) return refused(400, 'validation_failed', alert.reasons);
    try {
      const { event, replayed } = await this.append(source, alert, request.raw);
      const answer = replayed
        ? { status: 200, body: { id: event.id, seq: event.seq, signalId: event.signalId, duplicate: true } }
        : { status: 201, body: { id: event.id, seq: event.seq, signalId: event.signalId } };
      return {
        answer,
        outcome: replayed ? 'duplicate' : 'accepted',
        reasons: notesOf(alert, event.signalId),
        eventId: event.id,
      };
    } catch (error) {
      const { status, body: failure } = toErrorResponse(error);
      if (status >= 500) this.onError(error, 'a source request failed');
      const reasons = reasonsOf(error, failure.error, alert);
      const answer = { ...refusal(status, failure.error.code, failure.error.message, reasons) };
      if (status === 503) answer.retryAfterSeconds = 2;
      return { answer, outcome: 'refused', reasons, eventId: null };
    }
  }

  private append(source: SourceRecord, alert: AlertAction, raw: string): Promise<AppendResult> {
    const publisher = publisherOf(source);
    const { key, options } = dedupeOf(alert.alertId, raw);
    if (alert.kind === 'publish') {
      return this.deps.signals.publish(publisher, { ...alert.input, idempotencyKey: key }, options);
    }
    return this.close(source, alert, publisher, key, options);
  }

  /**
   * Closes the symbol's newest open signal on the source's channel. A resend of a close that
   * went through finds its signal closed: the update is offered to the newest closed signal
   * first, where the store answers a known key with the original event (a closed signal takes
   * nothing else, so that attempt appends nothing). A key already used for another signal is
   * refused by the store, so a resend can never close a second signal.
   */
  private async close(
    source: SourceRecord,
    alert: Extract<AlertAction, { kind: 'close' }>,
    publisher: Publisher,
    key: string,
    options: PublishOptions,
  ): Promise<AppendResult> {
    const recent = await this.deps.store.listSignals(
      { channel: source.channel, symbol: alert.symbol, limit: 50, ...(alert.side ? { side: alert.side } : {}) },
      [source.channel],
    );
    const update = { ...alert.update, idempotencyKey: key };
    const closed = recent.find((s) => s.status === 'closed');
    if (closed) {
      try {
        return await this.deps.signals.update(publisher, closed.id, update, options);
      } catch (error) {
        if (!(error instanceof AppError && error.status === 409 && error.code === 'invalid_transition')) throw error;
      }
    }
    const open = recent.find((s) => s.status === 'open' || s.status === 'tp_hit');
    if (!open) {
      const which = alert.side ? `${alert.side} signal` : 'signal';
      throw new AppError(409, 'no_open_signal', `nothing to close`, {
        symbol: `${alert.symbol} has no open ${which} on #${source.channel} to close`,
      });
    }
    return this.deps.signals.update(publisher, open.id, update, options);
  }
}

function refusal(status: number, code: string, message: string, fields: Reasons): InletAnswer {
  return { status, body: { error: { code, message, fields } } };
}

/** What an accepted request's log entry adds: the parser's assumptions, and which signal a close closed. */
function notesOf(alert: AlertAction, signalId: string): Reasons | null {
  const notes: Reasons = {};
  if (alert.kind === 'close') notes.signal = signalId;
  if (alert.kind === 'publish') alert.warnings.forEach((warning, i) => (notes[`warning ${i + 1}`] = warning));
  return Object.keys(notes).length ? notes : null;
}

/** A failed append's reasons, under the keys the alert's author wrote. */
function reasonsOf(
  error: unknown,
  failure: { code: string; message: string; fields?: Reasons },
  alert: AlertAction,
): Reasons {
  const keys: FieldKeys = alert.keys;
  if (failure.code === 'idempotency_conflict') {
    return alert.alertId
      ? {
          [keys.id ?? 'id']:
            'was already used by a different alert: make "id" unique per alert, e.g. "{{ticker}}-{{timenow}}"',
        }
      : { body: 'the same body was accepted with other source settings in the last 10 minutes' };
  }
  if (failure.fields) {
    return Object.fromEntries(
      Object.entries(failure.fields).map(([field, message]) => [keys[field] ?? field, message]),
    );
  }
  return { [error instanceof AppError && error.status < 500 ? (keys.action ?? 'body') : 'server']: failure.message };
}
