/**
 * Web Push to a browser or phone that subscribed (RFC 8030, encrypted per RFC 8291 with
 * aes128gcm, authorised with VAPID per RFC 8292), through the `web-push` library.
 *
 * Guarantees:
 * - The subscription is exactly what a browser's `PushSubscription.toJSON()` gives, checked: an
 *   https endpoint, a 65-byte P-256 `p256dh` and a 16-byte `auth`.
 * - The endpoint is a URL a subscriber chose, so it is checked like every other target before
 *   anything is sent, and the connection goes through the guarded agent.
 * - The payload is JSON `{ title, body, url, tag, seq, channel, signalId, type }` of at most
 *   `PUSH_PAYLOAD_MAX_BYTES`, so it stays under the 4096 bytes push services take once encrypted.
 * - 404 and 410 mean the subscription is gone for good; everything else that fails is retried.
 */
import webpush, { type PushSubscription, type RequestOptions } from 'web-push';
import { z } from 'zod';
import type { AdapterTarget, DestinationAdapter, SendContext, SendResult } from '../adapter.js';
import { cut, plainBody, renderEvent } from '../format.js';
import { errorText, excerpt, retryAfterMs, settle } from '../http.js';

/** Leaves room for the encryption's own bytes (header, padding, tag) within the 4096 push services accept. */
export const PUSH_PAYLOAD_MAX_BYTES = 3000;
/** A day: a signal that could not reach a device in that time is stale. */
const TTL_SECONDS = 86_400;

const base64urlKey = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url')
    .refine((value) => Buffer.from(value, 'base64url').length === bytes, `must be ${bytes} bytes (${what})`);

export const pushConfigSchema = z.object({
  endpoint: z
    .string()
    .max(2048, 'must be at most 2048 characters')
    .refine((value) => URL.canParse(value) && new URL(value).protocol === 'https:', 'must be an https:// URL'),
  keys: z.object({
    p256dh: base64urlKey(65, 'an uncompressed P-256 public key').refine(
      (value) => Buffer.from(value, 'base64url')[0] === 0x04,
      'must be an uncompressed P-256 public key',
    ),
    auth: base64urlKey(16, 'the authentication secret'),
  }),
});
export type PushConfig = z.infer<typeof pushConfigSchema>;

/** What the service worker receives. */
export interface PushPayload {
  title: string;
  body: string;
  /** Opened on a click: the signal's page (absolute with a public URL, else a path on the app's origin). */
  url: string;
  /** A later notification of the same signal replaces the earlier one on the device. */
  tag: string;
  seq: number | null;
  channel: string | null;
  signalId: string | null;
  type: string;
}

export const pushAdapter: DestinationAdapter<PushConfig> = {
  kind: 'push',
  configSchema: pushConfigSchema,
  send: (target, message, context) =>
    settle(() => {
      const rendered = renderEvent(message, context.publicUrl);
      return push(target, context, {
        title: rendered.title,
        body: plainBody(rendered),
        url: rendered.url ?? rendered.path,
        tag: rendered.signalId,
        seq: rendered.seq,
        channel: rendered.channel,
        signalId: rendered.signalId,
        type: message.event.type,
      });
    }),
  sendTest: (target, context) =>
    settle(() =>
      push(target, context, {
        title: 'Notifications are on',
        body: 'New signals and their updates will appear here.',
        url: context.publicUrl ?? '/',
        tag: 'signal-desk-test',
        seq: null,
        channel: null,
        signalId: null,
        type: 'destination.test',
      }),
    ),
};

/** The payload as JSON, its body shortened until the whole fits `PUSH_PAYLOAD_MAX_BYTES`. */
export function encodePushPayload(payload: PushPayload): string {
  let body = payload.body;
  let json = JSON.stringify({ ...payload, title: cut(payload.title, 200), body });
  while (Buffer.byteLength(json) > PUSH_PAYLOAD_MAX_BYTES && body !== '') {
    const size = Buffer.byteLength(json);
    // Shrink in proportion to the excess; always by at least one character, so this ends.
    body = cut(body, Math.min(body.length - 1, Math.floor((body.length * PUSH_PAYLOAD_MAX_BYTES) / size)));
    json = JSON.stringify({ ...payload, title: cut(payload.title, 200), body });
  }
  return json;
}

async function push(
  target: AdapterTarget<PushConfig>,
  context: SendContext,
  payload: PushPayload,
): Promise<SendResult> {
  const { vapid, http } = context;
  if (!vapid) return { kind: 'retry', status: null, error: 'Web Push is not configured: the server has no VAPID keys' };
  const { endpoint, keys } = target.config;
  const subscription: PushSubscription = { endpoint, keys };
  const options: RequestOptions = {
    vapidDetails: { subject: vapid.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
    TTL: TTL_SECONDS,
    urgency: 'high',
    timeout: context.timeoutMs,
    agent: http.agentFor(endpoint) as RequestOptions['agent'],
  };
  try {
    const sent = await withDeadline(
      webpush.sendNotification(subscription, encodePushPayload(payload), options),
      context.timeoutMs,
    );
    return { kind: 'delivered', status: sent.statusCode };
  } catch (error) {
    return readFailure(error, context.now());
  }
}

function readFailure(error: unknown, now: Date): SendResult {
  if (!(error instanceof webpush.WebPushError)) return { kind: 'retry', status: null, error: errorText(error) };
  const { statusCode: status, headers, body } = error;
  const said = excerpt(body ?? '');
  const message = `push service answered ${status}${said === '' ? '' : `: ${said}`}`;
  if (status === 404 || status === 410) return { kind: 'gone', status, error: message };
  if (status === 429) {
    const header = headers['retry-after'];
    const after = retryAfterMs(Array.isArray(header) ? header[0] : header, now);
    return { kind: 'retry', status, error: message, ...(after === undefined ? {} : { retryAfterMs: after }) };
  }
  return { kind: 'retry', status, error: message };
}

/**
 * `work`, or a timeout error after `ms`. web-push's own `timeout` only bounds idle time on the
 * socket, so a push service that trickles its answer would otherwise hold the destination.
 */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
