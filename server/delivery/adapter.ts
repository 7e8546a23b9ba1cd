/**
 * What one kind of destination (webhook, Telegram, Discord, Web Push) contributes to the
 * delivery engine: how its settings are validated, how one event is sent, and how the far
 * side's answer reads (accepted, try again later, or gone for good). The engine does the rest
 * — cursor, order, retries with back-off, pausing, leases, the attempt log — the same for all.
 */
import type { ZodType } from 'zod';
import type { SignalView, StoredEvent } from '../../shared/events.js';
import type { GuardedHttp } from './http.js';

export type DestinationKind = 'webhook' | 'telegram' | 'discord' | 'push';

/** One event to send, with the signal it belongs to as it stands after the event. */
export interface Outgoing {
  event: StoredEvent;
  signal: SignalView;
}

/** What the far side made of a send. An adapter never throws: every failure is one of these. */
export type SendResult =
  /**
   * Accepted: the cursor moves past the event. `waitMs`: the far side asked for a pause
   * before the next send (a rate-limit bucket that is empty now).
   */
  | { kind: 'delivered'; status: number | null; waitMs?: number }
  /** Not accepted now (network error, timeout, 429, 5xx, any other refusal): retried later, in order. */
  | { kind: 'retry'; status: number | null; error: string; retryAfterMs?: number }
  /** The far side says this destination no longer exists (a push subscription answering 404/410). */
  | { kind: 'gone'; status: number; error: string };

export interface AdapterTarget<C> {
  id: string;
  name: string;
  config: C;
  /** A webhook's signing secrets: the current one, and the previous one while it is still valid. */
  secrets: { current: string | null; previous: string | null };
}

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  /** `mailto:` or `https:` contact the push services may use. */
  subject: string;
}

export interface SendContext {
  http: GuardedHttp;
  /** Base URL of the Telegram Bot API (TELEGRAM_API_URL). */
  telegramApiUrl: string;
  /** The server's public URL, for links in messages ("open this signal"), when known. */
  publicUrl: string | null;
  vapid: VapidKeys | null;
  /** Time allowed for one request, connect to last byte. */
  timeoutMs: number;
  now(): Date;
}

/** How fast one destination (or all sharing a key, such as one Telegram chat) may be sent to. */
export interface Pace {
  key: string;
  /** Sends allowed per `perMs`. */
  limit: number;
  perMs: number;
}

export interface DestinationAdapter<C> {
  readonly kind: DestinationKind;
  /** Validates an admin's (or a browser's) settings for this kind; messages per field. */
  readonly configSchema: ZodType<C>;
  /** Sends one event. Never throws. */
  send(target: AdapterTarget<C>, message: Outgoing, context: SendContext): Promise<SendResult>;
  /** Sends a test message (the "send a test" button), outside the log. Never throws. */
  sendTest(target: AdapterTarget<C>, context: SendContext): Promise<SendResult>;
  /** The pace this destination must keep, beyond what the far side says in its answers. */
  pace?(target: AdapterTarget<C>): Pace | undefined;
}
