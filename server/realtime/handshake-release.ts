/**
 * Letting go of the HTTP request a Socket.IO connection was opened with.
 *
 * Engine.IO keeps that request for the connection's whole life, in three places: on its
 * socket (`conn.request`), in the stand-in response its WebSocket upgrade hands to
 * middlewares (whose 'close' relay stays registered on the TCP socket), and in Socket.IO's
 * `handshake` (`headers`, `query`, `url`). That is the request object, its stream state and
 * every header — a browser's cookies and user agent among them — for as long as the
 * subscriber stays connected, though nothing reads them after authentication. Socket.IO's
 * own memory guide suggests dropping `conn.request`; that alone frees nothing, because the
 * upgrade's response still holds the request.
 *
 * This reads private parts of Engine.IO 6; `handshake-release.test.ts` pins them.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Server, Socket } from 'socket.io';

/** Engine.IO's stand-in response for a WebSocket upgrade. */
interface UpgradeResponse {
  req?: IncomingMessage | undefined;
}

/** Shared by every released handshake: one empty object, not two per connection. */
const NOTHING: Record<string, never> = Object.freeze({});

interface EngineConnection {
  request?: IncomingMessage | null;
}

export class HandshakeRelease {
  /** Each upgrade's stand-in response, by its request, until the connection is established. */
  private readonly responses = new WeakMap<IncomingMessage, UpgradeResponse>();

  constructor(io: Server) {
    io.engine.use((req: IncomingMessage, res: unknown, next: () => void) => {
      if (!(res instanceof ServerResponse)) this.responses.set(req, res as UpgradeResponse);
      next();
    });
  }

  /**
   * Drops every reference the connection holds to its opening request, and the credentials
   * in `handshake.auth`. Call once the handshake has been read: `socket.request` is null
   * afterwards, and the handshake keeps only its time and address.
   */
  release(socket: Socket): void {
    const conn = socket.conn as unknown as EngineConnection;
    const request = conn.request;
    if (request) {
      const response = this.responses.get(request);
      if (response) response.req = undefined;
      this.responses.delete(request);
    }
    conn.request = null;
    const handshake = socket.handshake;
    handshake.headers = NOTHING;
    handshake.query = NOTHING;
    handshake.auth = NOTHING;
    handshake.url = '';
  }
}
