/**
 * Publish-acknowledgement and end-to-end delivery latency: three nodes on PostgreSQL beside
 * one node on SQLite, each as real server processes, measured from one client process.
 *
 *   node --import tsx bench/cluster/latency.ts [--publishes 300] [--subscribers 30] [--concurrency 1]
 *       [--out bench/cluster/RESULTS.md]
 *
 * - ack: from sending `POST /api/signals` to its 201 (the durable commit included).
 * - delivery: from sending the publish to a subscriber receiving `new_signal`, for every
 *   (event, subscriber) pair; subscribers are spread evenly over the nodes, so on the
 *   cluster two thirds of the deliveries cross nodes (LISTEN/NOTIFY).
 * - all delivered: per event, until the last subscriber has it.
 * Publishes rotate over the nodes, `concurrency` at a time, after 20 warm-up publishes.
 * `main()` returns the figures, for `bench/run.ts`.
 */
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { io as ioClient, type Socket } from 'socket.io-client';
import { postgresDatabase, sqliteDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import { startServerProcess, type ServerProcess } from '../../test/helpers/process.js';
import { Api, PASSWORD, signalBody } from '../../test/helpers/server.js';
import { sleep, summarize, type Summary } from '../lib/stats.js';

export interface LatencyOptions {
  publishes: number;
  subscribers: number;
  concurrency: number;
}

export interface LatencyResult {
  setup: string;
  ack: Summary;
  delivery: Summary;
  allDelivered: Summary;
}

const WARMUP = 20;

async function measure(setup: string, nodes: ServerProcess[], options: LatencyOptions): Promise<LatencyResult> {
  const anon = new Api(nodes[0]!.url);
  const created = await anon.post('/api/setup', {
    email: 'bench@example.test',
    password: PASSWORD,
    name: 'Bench',
    setupCode: nodes[0]!.setupCode(),
  });
  if (created.status !== 201) throw new Error(`setup: ${created.status}`);
  const token = created.body.token as string;
  const apis = nodes.map((n) => new Api(n.url, token));
  await apis[0]!.post('/api/channels', { slug: 'bench', name: 'bench' });

  // Subscribers: one user each, spread over the nodes.
  const received = new Map<number, number[]>(); // seq → receive times
  const sockets: Socket[] = [];
  for (let i = 0; i < options.subscribers; i++) {
    const email = `sub${i}@example.test`;
    await apis[0]!.post('/api/users', { email, password: PASSWORD, role: 'subscriber', channels: ['bench'] });
    const node = nodes[i % nodes.length]!;
    const login = await new Api(node.url).post('/api/auth/login', { email, password: PASSWORD });
    const socket = ioClient(node.url, {
      auth: { token: login.body.token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    socket.on('new_signal', (e: { seq: number }) => {
      const now = performance.now();
      const list = received.get(e.seq);
      if (list) list.push(now);
      else received.set(e.seq, [now]);
    });
    await new Promise((resolve, reject) => {
      socket.once('live', resolve);
      socket.once('connect_error', reject);
    });
    sockets.push(socket);
  }

  const sent = new Map<number, number>(); // seq → send time
  const acks: number[] = [];
  let next = 0;
  const total = WARMUP + options.publishes;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const started = performance.now();
      const res = await apis[i % apis.length]!.post('/api/signals', signalBody('bench'));
      const took = performance.now() - started;
      if (res.status !== 201) throw new Error(`publish: ${res.status} ${JSON.stringify(res.body)}`);
      if (i >= WARMUP) {
        acks.push(took);
        sent.set(res.body.seq as number, started);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));

  const deadline = Date.now() + 30_000;
  const complete = () => [...sent.keys()].every((seq) => (received.get(seq)?.length ?? 0) >= options.subscribers);
  while (!complete() && Date.now() < deadline) await sleep(20);
  if (!complete()) throw new Error(`${setup}: not every subscriber received every event within 30 s`);

  const delivery: number[] = [];
  const allDelivered: number[] = [];
  for (const [seq, start] of sent) {
    const times = received.get(seq)!.map((t) => t - start);
    delivery.push(...times);
    allDelivered.push(Math.max(...times));
  }
  sockets.forEach((s) => s.close());
  return { setup, ack: summarize(acks), delivery: summarize(delivery), allDelivered: summarize(allDelivered) };
}

async function run(setup: string, size: number, database: TestDatabase, options: LatencyOptions) {
  const nodes = await Promise.all(
    Array.from({ length: size }, () =>
      startServerProcess({ env: { DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'info' } }),
    ),
  );
  try {
    return await measure(setup, nodes, options);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await database.drop();
  }
}

export async function main(options: Partial<LatencyOptions> = {}): Promise<LatencyResult[]> {
  const full: LatencyOptions = { publishes: 300, subscribers: 30, concurrency: 1, ...options };
  return [
    await run('1 node, SQLite', 1, sqliteDatabase(), full),
    await run('3 nodes, PostgreSQL', 3, await postgresDatabase(), full),
  ];
}

function table(results: LatencyResult[]): string {
  const row = (r: LatencyResult) =>
    `| ${r.setup} | ${r.ack.p50} | ${r.ack.p99} | ${r.delivery.p50} | ${r.delivery.p99} | ${r.allDelivered.p50} | ${r.allDelivered.p99} |`;
  return [
    '| setup | ack p50 | ack p99 | delivery p50 | delivery p99 | all delivered p50 | all delivered p99 |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...results.map(row),
  ].join('\n');
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const { values } = parseArgs({
    options: {
      publishes: { type: 'string', default: '300' },
      subscribers: { type: 'string', default: '30' },
      concurrency: { type: 'string', default: '1' },
      out: { type: 'string' },
    },
  });
  const options = {
    publishes: Number(values.publishes),
    subscribers: Number(values.subscribers),
    concurrency: Number(values.concurrency),
  };
  const results = await main(options);
  const text = table(results);
  console.log(text);
  if (values.out) {
    const command = `node --import tsx bench/cluster/latency.ts --publishes ${options.publishes} --subscribers ${options.subscribers} --concurrency ${options.concurrency}`;
    writeFileSync(
      values.out,
      `# Cluster latency\n\n\`${command}\`\n\n${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ` +
        `load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(
            ' ',
          )}, Node ${process.version}. Milliseconds.\n\n${text}\n\n\`\`\`json\n${JSON.stringify(results, null, 2)}\n\`\`\`\n`,
    );
  }
  process.exit(0);
}
