/**
 * How a baseline server runs under the benchmark: it listens on a free port of 127.0.0.1,
 * announces `{"msg":"serving","port":…}` on stdout (what `bench/lib/systems.ts` waits for),
 * and exits cleanly on the benchmark's SIGTERM, so node flags such as `--cpu-prof` write
 * their output.
 */
import type { Server } from 'node:http';

export function serve(server: Server): void {
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(
      `${JSON.stringify({ msg: 'serving', port: typeof address === 'object' && address ? address.port : 0 })}\n`,
    );
  });
  process.once('SIGTERM', () => process.exit(0));
}
