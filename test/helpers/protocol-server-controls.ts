/**
 * What the local protocol servers (telegram-server.ts, discord-server.ts) share: an HTTP server on
 * 127.0.0.1 that a test can hold, crash and bring back, or make fail on purpose, the record of what it
 * accepted and answered, and the replies both write.
 *
 * Guarantees:
 * - A request reaches the server's handler only once any `pause()` is over, and not at all when its
 *   connection was dropped meanwhile; a handler that throws answers 500 naming the server, which runs on.
 * - `down()` drops every open connection as a crash would; `up()` listens again on the same port, so
 *   `port` never changes once listening.
 * - Each `failNext` status is used up by one request, in the order requests ask for one.
 * - `waitFor` checks its predicate at once and after every handled request; `close()` rejects those
 *   still waiting.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The part of a protocol server's API that drives the server rather than speaks the protocol. */
export interface ProtocolServerControls<Message, Request> {
  port: number;
  /** Accepted messages, in order; the array is live. */
  messages: readonly Message[];
  /** Every answered request, in order; the array is live. */
  requests: readonly Request[];
  /** Resolves once `predicate` holds (checked now and after every answer); rejects after `timeoutMs`. */
  waitFor(
    predicate: (messages: readonly Message[], requests: readonly Request[]) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  /**
   * The next `count` requests are answered with `status` whatever they are; 502, 503 and 504 as the
   * HTML page of the service's front proxy.
   */
  failNext(count: number, status?: number): void;
  /** Hold every request unanswered until `resume()`. */
  pause(): void;
  resume(): void;
  /**
   * Stop listening and drop every open connection, as a crashed server would: a kept-alive connection
   * fails on its next use (a socket error), new connections are refused (ECONNREFUSED).
   */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  /** Forget messages, requests, pending failures and rate-limit state. */
  reset(): void;
  close(): Promise<void>;
}

export interface ControlledServerOptions {
  /** Prefixes the server's errors, as in `telegram-server: closed while waiting`. */
  name: string;
  /** Answers one request, and records it in `requests` (and an accepted message in `messages`). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Forgets what the server keeps besides the records, such as its rate limits. */
  onReset?(): void;
}

interface Waiter {
  check(): void;
  fail(error: Error): void;
}

/** The HTTP server under a protocol server, with the records and pending failures its controls act on. */
export class ControlledServer<Message, Request extends { status: number }> {
  readonly messages: Message[] = [];
  readonly requests: Request[] = [];
  private boundPort = 0;
  private listening = false;
  private held: { promise: Promise<void>; release: () => void } | null = null;
  private readonly failures: number[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly server: Server;

  constructor(private readonly options: ControlledServerOptions) {
    this.server = createServer((req, res) => {
      void this.serve(req, res);
    });
  }

  get port(): number {
    return this.boundPort;
  }

  /** Listens on a free port. */
  listen(): Promise<void> {
    return this.listenOn(0);
  }

  /** The status a `failNext` left for this request, if any; the handler asks once it has read the request. */
  takeFailure(): number | undefined {
    return this.failures.shift();
  }

  /** The controls for the server's API; call it once listening, as `port` is copied (it never changes after). */
  controls(): ProtocolServerControls<Message, Request> {
    return {
      port: this.port,
      messages: this.messages,
      requests: this.requests,
      waitFor: (predicate, timeoutMs = 5000) => this.waitFor(predicate, timeoutMs),
      failNext: (count, status = 500) => this.failNext(count, status),
      pause: () => this.pause(),
      resume: () => this.resume(),
      down: () => this.down(),
      up: () => this.up(),
      reset: () => this.reset(),
      close: () => this.close(),
    };
  }

  private async listenOn(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  private async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private up(): Promise<void> {
    return this.listening ? Promise.resolve() : this.listenOn(this.boundPort);
  }

  private failNext(count: number, status: number): void {
    for (let n = 0; n < count; n++) this.failures.push(status);
  }

  private reset(): void {
    this.messages.length = 0;
    this.requests.length = 0;
    this.failures.length = 0;
    this.options.onReset?.();
  }

  private pause(): void {
    if (this.held) return;
    let release = (): void => undefined;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.held = { promise, release };
  }

  private resume(): void {
    this.held?.release();
    this.held = null;
  }

  private waitFor(
    predicate: (messages: readonly Message[], requests: readonly Request[]) => boolean,
    timeoutMs: number,
  ): Promise<void> {
    const name = this.options.name;
    const describe = (): string =>
      `${this.messages.length} messages, statuses [${this.requests.map((r) => r.status).join(', ')}]`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => waiter.fail(new Error(`${name}: waitFor timed out after ${timeoutMs} ms (${describe()})`)),
        timeoutMs,
      );
      const settle = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter: Waiter = {
        check: () => {
          let met: boolean;
          try {
            met = predicate(this.messages, this.requests);
          } catch (error) {
            settle();
            reject(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          if (met) {
            settle();
            resolve();
          }
        },
        fail: (error) => {
          settle();
          reject(error);
        },
      };
      this.waiters.add(waiter);
      waiter.check();
    });
  }

  private async close(): Promise<void> {
    for (const waiter of [...this.waiters]) waiter.fail(new Error(`${this.options.name}: closed while waiting`));
    await this.down();
    // Held requests lost their connections above; releasing them lets their handlers finish.
    this.resume();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await this.held?.promise;
    if (!res.socket || res.socket.destroyed) return;
    try {
      await this.options.handle(req, res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`${this.options.name}: ${String(error)}`);
    }
    for (const waiter of [...this.waiters]) waiter.check();
  }
}

// ---------------------------------------------------------------------------------------------
// Replies

/** An answer as a server writes it and records it. */
export interface Reply {
  status: number;
  /** `null` when there is no body, as with 204. */
  contentType: string | null;
  body: string;
  /** What `requests` keeps as the answer. */
  recorded: unknown;
  headers?: Record<string, string>;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function jsonReply(status: number, value: unknown): Reply {
  return { status, contentType: 'application/json', body: JSON.stringify(value), recorded: value };
}

/** What a client meets when the service has trouble: its front proxy answers 502, 503 and 504 with a page. */
export function gatewayErrorPage(status: number, proxySignature: string): Reply {
  const title = `${status} ${STATUS_CODES[status] ?? ''}`;
  const body = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>${proxySignature}</center>\r\n</body>\r\n</html>\r\n`;
  return { status, contentType: 'text/html', body, recorded: body };
}

/** Writes the reply and returns the headers it carried, for the record. */
export function writeReply(res: ServerResponse, reply: Reply): Record<string, string> {
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.contentType !== null) {
    headers['Content-Type'] = reply.contentType;
    headers['Content-Length'] = String(Buffer.byteLength(reply.body));
  }
  res.writeHead(reply.status, headers);
  res.end(reply.body);
  return headers;
}
