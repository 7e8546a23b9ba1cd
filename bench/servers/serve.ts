/**
 * How a baseline server runs under the benchmark: it listens on a free port of 127.0.0.1,
 * announces `{"msg":"serving","port":…}` on stdout (what `bench/lib/systems.ts` waits for),
 * and exits cleanly on the benchmark's SIGTERM, so node flags such as `--cpu-prof` write
 * their output. Idle keep-alive connections stay open as long as signal-desk's (Fastify's
 * 72 s): with Node's default of 5 s, a baseline whose event loop was busy for seconds closed
 * a connection just as the benchmark sent a publish on it, and the publish failed with
 * ECONNRESET.
 */
import type { Server } from 'node:http';

/** Fastify's default `keepAliveTimeout`, which signal-desk keeps. */
const KEEP_ALIVE_MS = 72_000;

export function serve(server: Server): void {
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(
      `${JSON.stringify({ msg: 'serving', port: typeof address === 'object' && address ? address.port : 0 })}\n`,
    );
  });
  process.once('SIGTERM', () => process.exit(0));
}
