/**
 * Writing pre-encoded WebSocket frames straight to a Socket.IO connection's TCP socket.
 *
 * The fan-out to thousands of sockets is one `write` per socket of a frame encoded once;
 * going through `socket.emit` would encode the packet, queue it in Engine.IO and frame it
 * in `ws` again for every socket. A direct write is only correct when nothing is waiting
 * ahead of it — in Engine.IO's queue or in the WebSocket sender's — or it would overtake
 * earlier packets; `DirectWriter` checks exactly that, and otherwise the caller emits.
 *
 * This reads private fields of Engine.IO 6 and ws 8; `direct-writer.test.ts` pins them
 * against the installed versions.
 */
import type { Socket as NetSocket } from 'node:net';
import type { Socket } from 'socket.io';

/** An unmasked, final WebSocket text frame of `text`: header and payload in one buffer. */
export function wsTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN + text
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(text, header, 'utf8');
  return frame;
}

/** The `ws` WebSocket under Engine.IO's websocket transport. */
interface WsInternals {
  readyState: number;
  bufferedAmount: number;
  _socket?: NetSocket;
  _sender?: { _state?: number; _queue?: unknown[] };
}

interface EngineTransport {
  name?: string;
  socket?: WsInternals;
}

interface EngineConnection {
  readyState?: string;
  writeBuffer: Array<{ data?: unknown }>;
  transport?: EngineTransport;
}

const WS_OPEN = 1;
/** A queued packet whose size is unknown (binary): counted as this many bytes. */
const UNKNOWN_PACKET_BYTES = 64;

/**
 * One connection's write path. The transport's objects are looked up once and again only
 * when the transport changes (an upgrade from polling), so a check in the fan-out touches
 * the few fields it needs and nothing else.
 */
export class DirectWriter {
  private readonly conn: EngineConnection;
  private transport: EngineTransport | undefined;
  private ws: WsInternals | undefined;
  private raw: NetSocket | undefined;

  constructor(socket: Socket) {
    this.conn = socket.conn as unknown as EngineConnection;
  }

  /** Looks the transport's objects up again if the transport changed (an upgrade from polling). */
  private sync(): void {
    const transport = this.conn.transport;
    if (transport === this.transport) return;
    this.transport = transport;
    this.ws = transport?.name === 'websocket' ? transport.socket : undefined;
    this.raw = this.ws?._socket;
  }

  /**
   * The TCP socket, if a frame written to it now would follow everything already sent:
   * the connection is open on a WebSocket and nothing waits in Engine.IO's queue or the
   * sender's.
   */
  socket(): NetSocket | undefined {
    this.sync();
    const conn = this.conn;
    const ws = this.ws;
    const raw = this.raw;
    const sender = ws?._sender;
    if (
      ws === undefined ||
      raw === undefined ||
      conn.readyState !== 'open' ||
      conn.writeBuffer.length !== 0 ||
      ws.readyState !== WS_OPEN ||
      sender?._state !== 0 ||
      sender._queue?.length !== 0 ||
      !raw.writable
    ) {
      return undefined;
    }
    return raw;
  }

  /** The TCP socket under a WebSocket transport, writable or not (to drop the connection now). */
  tcpSocket(): NetSocket | undefined {
    this.sync();
    return this.raw;
  }

  /** Bytes waiting in Engine.IO's queue and in the WebSocket's send buffer. */
  queuedBytes(): number {
    this.sync();
    const conn = this.conn;
    let bytes = this.ws?.bufferedAmount ?? 0;
    for (const packet of conn.writeBuffer) {
      bytes += typeof packet.data === 'string' ? packet.data.length : UNKNOWN_PACKET_BYTES;
    }
    return bytes;
  }
}
