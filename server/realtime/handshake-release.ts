/**
 * Letting go of the HTTP requests a Socket.IO connection was opened and upgraded with.
 *
 * Engine.IO keeps such a request for the connection's whole life, in three places: on its
 * socket (`conn.request`, the opening request), in the stand-in response each WebSocket
 * upgrade hands to middlewares (whose 'close' relay stays registered on the TCP socket —
 * the opening request of a WebSocket connection, the upgrade request of one that started on
 * polling), and in Socket.IO's `handshake` (`headers`, `query`, `url`, `auth`). That is the
 * request object, its stream state and every header — a browser's cookies among them — for
 * as long as the subscriber stays connected, though nothing reads them after
 * authentication. Socket.IO's own memory guide suggests dropping `conn.request`; that alone
 * frees nothing on WebSocket connections, because the upgrade's response still holds the
 * request.
 *
 * This reads private parts of Engine.IO 6; `handshake-release.test.ts` pins them.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Server, Socket } from 'socket.io';

/** Engine.IO's stand-in response for a WebSocket upgrade. */
interface UpgradeResponse {
  req?: IncomingMessage | undefined;
}

interface EngineConnection {
  request?: IncomingMessage | null;
}

/** Shared by every released handshake: one empty object, not two per connection. */
const NOTHING: Record<string, never> = Object.freeze({});

/**
 * Makes every WebSocket upgrade of `io` let go of its request once its response headers are
 * written. Call once, when the server is built.
 */
export function releaseUpgradeRequests(io: Server): void {
  // Each upgrade's stand-in response, by its request, from the middlewares to the headers.
  const responses = new WeakMap<IncomingMessage, UpgradeResponse>();
  // With a middleware registered Engine.IO refuses WebTransport sessions, which this server
  // does not offer.
  io.engine.use((req: IncomingMessage, res: unknown, next: () => void) => {
    if (!(res instanceof ServerResponse)) responses.set(req, res as UpgradeResponse);
    next();
  });
  // Emitted for every WebSocket upgrade once the middlewares are done, whether it opens the
  // connection or upgrades one from polling: nothing reads the stand-in's request after it.
  io.engine.on('headers', (_headers: unknown, req: IncomingMessage) => {
    const response = responses.get(req);
    if (!response) return;
    response.req = undefined;
    responses.delete(req);
  });
}

/**
 * Drops the connection's own references to its opening request, and the credentials in
 * `handshake.auth`. Call once the handshake has been read: `socket.request` is null
 * afterwards, and the handshake keeps only its time and address.
 */
export function releaseHandshake(socket: Socket): void {
  (socket.conn as unknown as EngineConnection).request = null;
  const handshake = socket.handshake;
  handshake.headers = NOTHING;
  handshake.query = NOTHING;
  handshake.auth = NOTHING;
  handshake.url = '';
}
