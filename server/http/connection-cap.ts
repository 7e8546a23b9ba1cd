/**
 * A cap on the TCP connections one client address holds open, checked as each connection
 * arrives, before a byte of it is parsed: one address cannot take every socket the process
 * may open. Behind a reverse proxy every connection comes from the proxy, so the cap belongs
 * there instead (nginx `limit_conn`) and is not applied here.
 */
import type { Server } from 'node:http';
import { addressKey } from './client-address.js';

export interface ConnectionCap {
  /** Connections refused since start. */
  readonly refused: number;
  /** Open connections per address key, now. */
  readonly open: ReadonlyMap<string, number>;
}

export function capConnectionsPerAddress(server: Server, max: number, onRefused?: () => void): ConnectionCap {
  const open = new Map<string, number>();
  let refused = 0;
  server.on('connection', (socket) => {
    const key = addressKey(socket.remoteAddress ?? '');
    const count = (open.get(key) ?? 0) + 1;
    if (count > max) {
      refused++;
      onRefused?.();
      socket.destroy();
      return;
    }
    open.set(key, count);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
  return {
    get refused() {
      return refused;
    },
    open,
  };
}
