/**
 * Signed webhooks, as the Standard Webhooks specification has them (standardwebhooks.com).
 *
 * Guarantees:
 * - Every post carries `webhook-id` (the event's id, so a receiver recognises a repeat),
 *   `webhook-timestamp` (unix seconds of the send) and `webhook-signature`: `v1,<base64
 *   HMAC-SHA256 of "<id>.<timestamp>.<body>">` keyed with the secret's bytes (the base64 after
 *   `whsec_`). While a secret is being rotated both sign, newest first: `v1,<new> v1,<old>`.
 * - The body is `{ "type", "timestamp", "data" }` with the stored event (seq included) as `data`.
 * - Only a 2xx counts as delivered; a redirect is reported, never followed.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import type { AdapterTarget, DestinationAdapter, SendContext, SendResult } from '../adapter.js';
import { errorText, excerpt, retryAfterMs, settle, type HttpAnswer } from '../http.js';

export const webhookConfigSchema = z.object({
  url: z
    .string()
    .trim()
    .max(2048, 'must be at most 2048 characters')
    .refine(isHttpUrl, 'must be an http:// or https:// URL'),
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` and 24 random bytes in base64, the form Standard Webhooks libraries read. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(24).toString('base64')}`;
}

/** `v1,<signature>` for each secret, space-separated, current first. */
export function webhookSignature(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
      return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
    })
    .join(' ');
}

export const webhookAdapter: DestinationAdapter<WebhookConfig> = {
  kind: 'webhook',
  configSchema: webhookConfigSchema,
  send: (target, { event }, context) =>
    settle(() => post(target, { id: event.id, type: event.type, data: event }, context)),
  sendTest: (target, context) =>
    settle(() =>
      post(
        target,
        {
          id: uuidv7(),
          type: 'destination.test',
          data: { message: 'A test from signal-desk: this endpoint receives signals.', destination: target.name },
        },
        context,
      ),
    ),
};

interface Delivery {
  id: string;
  type: string;
  data: unknown;
}

async function post(
  target: AdapterTarget<WebhookConfig>,
  delivery: Delivery,
  context: SendContext,
): Promise<SendResult> {
  const secrets = [target.secrets.current, target.secrets.previous].filter((s): s is string => !!s);
  if (secrets.length === 0) return { kind: 'retry', status: null, error: 'this webhook has no signing secret' };
  const now = context.now();
  const timestamp = Math.floor(now.getTime() / 1000);
  const body = JSON.stringify({ type: delivery.type, timestamp: now.toISOString(), data: delivery.data });
  const headers = {
    'content-type': 'application/json',
    'webhook-id': delivery.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': webhookSignature(secrets, delivery.id, timestamp, body),
  };
  let answer: HttpAnswer;
  try {
    answer = await context.http.request(target.config.url, {
      method: 'POST',
      headers,
      body,
      timeoutMs: context.timeoutMs,
    });
  } catch (error) {
    return { kind: 'retry', status: null, error: errorText(error) };
  }
  return readAnswer(answer, now);
}

function readAnswer({ status, headers, body }: HttpAnswer, now: Date): SendResult {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 429) {
    const after = retryAfterMs(headers['retry-after'], now);
    return {
      kind: 'retry',
      status,
      error: 'rate limited (429)',
      ...(after === undefined ? {} : { retryAfterMs: after }),
    };
  }
  if (status >= 300 && status < 400) {
    const location = headers.location === undefined ? 'nowhere' : excerpt(headers.location);
    return { kind: 'retry', status, error: `redirected to ${location}: redirects are not followed` };
  }
  const text = excerpt(body);
  return { kind: 'retry', status, error: `answered ${status}${text === '' ? '' : `: ${text}`}` };
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
