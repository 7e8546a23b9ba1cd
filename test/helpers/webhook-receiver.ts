/**
 * A webhook receiver as a customer would run one: a real HTTP server that verifies every
 * delivery with the `standardwebhooks` package (the reference implementation of the Standard
 * Webhooks spec), answers 204, and keeps what it received. Its controls (fail the next
 * requests, answer 429 with Retry-After, go down and come back) come from protocol-server-controls.
 */
import { Webhook } from 'standardwebhooks';
import { ControlledServer, readBody, writeReply, type ProtocolServerControls } from './protocol-server-controls.js';

export interface ReceivedWebhook {
  /** The `webhook-id` header: the event's id. */
  id: string;
  type: string;
  timestamp: string;
  data: { seq: number; id: string; channel: string; type: string; [key: string]: unknown };
  /** Which of the receiver's secrets verified it. */
  verifiedWith: number;
}

export interface WebhookRequest {
  status: number;
  id: string | undefined;
  verified: boolean;
}

export interface WebhookReceiver extends ProtocolServerControls<ReceivedWebhook, WebhookRequest> {
  url: string;
  /** Secrets deliveries must verify with (any one of them); set once the destination exists. */
  secrets: string[];
  /** The next `count` requests get 429 with `Retry-After: seconds`. */
  throttleNext(count: number, seconds: number): void;
  /** Each request takes this long to answer (a slow receiver). */
  delayMs: number;
  /** Distinct deliveries by webhook-id, in the order first received. */
  unique(): ReceivedWebhook[];
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let throttled = 0;
  let throttleSeconds = 1;
  const receiver = {
    secrets: [] as string[],
    delayMs: 0,
  };
  const server: ControlledServer<ReceivedWebhook, WebhookRequest> = new ControlledServer({
    name: 'webhook-receiver',
    handle: async (req, res) => {
      const body = (await readBody(req)).toString('utf8');
      const id = req.headers['webhook-id'] as string | undefined;
      if (receiver.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, receiver.delayMs));
      const failure = server.takeFailure();
      if (failure !== undefined) {
        server.requests.push({ status: failure, id, verified: false });
        writeReply(res, { status: failure, contentType: 'text/plain', body: 'unavailable', recorded: null });
        return;
      }
      if (throttled > 0) {
        throttled--;
        server.requests.push({ status: 429, id, verified: false });
        res.writeHead(429, { 'retry-after': String(throttleSeconds) }).end();
        return;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const verifiedWith = receiver.secrets.findIndex((secret) => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      if (verifiedWith < 0) {
        server.requests.push({ status: 401, id, verified: false });
        res.writeHead(401).end('signature does not verify');
        return;
      }
      const payload = JSON.parse(body) as Omit<ReceivedWebhook, 'id' | 'verifiedWith'>;
      server.messages.push({ ...payload, id: id ?? '', verifiedWith });
      server.requests.push({ status: 204, id, verified: true });
      res.writeHead(204).end();
    },
  });
  await server.listen();
  return Object.assign(receiver, server.controls(), {
    url: `http://127.0.0.1:${server.port}/hooks/signals`,
    throttleNext(count: number, seconds: number) {
      throttled = count;
      throttleSeconds = seconds;
    },
    unique() {
      const seen = new Set<string>();
      return server.messages.filter((m) => (seen.has(m.id) ? false : (seen.add(m.id), true)));
    },
  });
}
