/**
 * The receivers of the destinations benchmark: one HTTP server standing for every webhook
 * destination (`/d/<index>`), in a process of its own so receiving costs the measured server
 * nothing. It answers 204 at once and keeps, per seq, when each destination first received it
 * (on the clock every process of the machine shares): a repeat to the same destination is
 * no second arrival. `GET /stats?from=SEQ` returns them.
 */
import { createServer } from 'node:http';
import { serve } from './serve.js';

const SEQ = /"seq":(\d+)/;
/** seq → destination path → first arrival (ms since the epoch, sub-millisecond). */
const arrivals = new Map<number, Map<string, number>>();
let deliveries = 0;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/stats')) {
    const from = Number(new URL(req.url, 'http://x').searchParams.get('from') ?? 0);
    const seqs = Object.fromEntries(
      [...arrivals].filter(([seq]) => seq >= from).map(([seq, byDestination]) => [seq, [...byDestination.values()]]),
    );
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ deliveries, arrivals: seqs }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const at = performance.timeOrigin + performance.now();
    const seq = Number(SEQ.exec(Buffer.concat(chunks).toString('utf8'))?.[1] ?? 0);
    deliveries++;
    const destination = req.url ?? '';
    const byDestination = arrivals.get(seq);
    if (!byDestination) arrivals.set(seq, new Map([[destination, at]]));
    else if (!byDestination.has(destination)) byDestination.set(destination, at);
    res.writeHead(204).end();
  });
});
serve(server);
