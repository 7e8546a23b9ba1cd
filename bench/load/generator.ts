/**
 * One load-generator process: thousands of protocol-level Socket.IO clients (Engine.IO v4
 * over a raw WebSocket), each a few hundred bytes of state. It answers pings, records when
 * each benchmark signal arrives and checks that every client gets each seq once and in
 * order. Driven by the orchestrator over IPC (see protocol.ts).
 */
import WebSocket from 'ws';
import { SOURCE_PREFIX } from '../lib/payload.js';
import { nowMs, type ClientSpec, type Command, type Reply } from './protocol.js';

const OPEN_CONCURRENCY = 200;
const OPEN_TIMEOUT_MS = 180_000;
const OPEN_ATTEMPTS = 6;

const SOURCE_MARK = Buffer.from(`"source":"${SOURCE_PREFIX}`);
const SEQ_MARK = Buffer.from('"seq":');
const LIVE_MARK = Buffer.from('42["live"');

interface Client {
  index: number;
  spec: ClientSpec;
  ws: WebSocket | null;
  ready: boolean;
  /** Highest seq received; -1 until the first delivery when no lastSeq was given. */
  lastSeq: number;
  /** Handshakes tried in the current open. */
  attempts: number;
}

let url = '';
let readyOn: 'connect' | 'live' = 'connect';
let spread = 1;
let clients: Client[] = [];

// The current measurement window.
let base = 0;
let count = 0;
let arrivals: Float64Array[] = [];
let arrived: Uint32Array = new Uint32Array(0);
let seen: Uint8Array = new Uint8Array(0);
let duplicates = 0;
let gaps = 0;
let cpuMark = process.cpuUsage();
let wallMark = nowMs();

// A reopen in progress.
let storm: { target: number; started: number; caughtUp: Float64Array; pending: number; done: () => void } | null = null;

function send(reply: Reply): void {
  process.send?.(reply);
}

function readInt(data: Buffer, at: number): number {
  let n = 0;
  for (let i = at; i < data.length; i++) {
    const c = data[i]!;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
}

function onDelivery(client: Client, data: Buffer, at: number): void {
  const seqAt = data.indexOf(SEQ_MARK);
  if (seqAt >= 0) {
    const seq = readInt(data, seqAt + SEQ_MARK.length);
    if (client.lastSeq >= 0 && seq !== client.lastSeq + 1) {
      if (seq <= client.lastSeq) duplicates++;
      else gaps++;
    }
    if (seq > client.lastSeq) client.lastSeq = seq;
  }
  const sourceAt = data.indexOf(SOURCE_MARK);
  if (sourceAt < 0) return;
  const k = readInt(data, sourceAt + SOURCE_MARK.length) - base;
  if (k < 0 || k >= count) return;
  const slot = k * clients.length + client.index;
  if (seen[slot]) {
    duplicates++;
    return;
  }
  seen[slot] = 1;
  arrivals[k]![arrived[k]!++] = at;
}

function becameReady(client: Client, onReady: () => void): void {
  if (client.ready) return;
  client.ready = true;
  onReady();
}

function checkStorm(client: Client, at: number): void {
  if (!storm || !client.ready || client.lastSeq < storm.target || !Number.isNaN(storm.caughtUp[client.index])) return;
  storm.caughtUp[client.index] = at - storm.started;
  if (--storm.pending === 0) storm.done();
}

function openClient(client: Client, onReady: () => void, onFail: (why: string) => void): void {
  const ws = new WebSocket(`${url}/socket.io/?EIO=4&transport=websocket`, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
    localAddress: `127.0.0.${2 + (client.index % spread)}`,
  });
  client.ws = ws;
  client.ready = false;
  let settled = false;
  const fail = (why: string) => {
    if (settled) return;
    settled = true;
    onFail(why);
  };
  ws.on('message', (data: Buffer) => {
    const at = nowMs();
    const type = data[0];
    if (type === 0x34 /* '4' message */) {
      const kind = data[1];
      if (kind === 0x32 /* '2' event */) {
        if (data.indexOf(LIVE_MARK) === 0) {
          if (readyOn === 'live') {
            settled = true;
            becameReady(client, onReady);
          }
        } else {
          onDelivery(client, data, at);
        }
        checkStorm(client, at);
      } else if (kind === 0x30 /* '0' connect */) {
        if (readyOn === 'connect') {
          settled = true;
          becameReady(client, onReady);
          checkStorm(client, at);
        }
      } else if (kind === 0x34 /* '4' connect_error */) {
        fail(`connect_error ${data.toString().slice(0, 200)}`);
        ws.close();
      }
    } else if (type === 0x32 /* '2' ping */) {
      ws.send('3');
    } else if (type === 0x30 /* '0' open */) {
      const auth: ClientSpec = {};
      if (client.spec.token) auth.token = client.spec.token;
      if (client.lastSeq >= 0) auth.lastSeq = client.lastSeq;
      ws.send(`40${JSON.stringify(auth)}`);
    }
  });
  ws.on('error', (error) => fail(error.message));
  ws.on('close', () => {
    client.ready = false;
    fail('closed before ready');
  });
}

/** Opens every client that is not open, at most OPEN_CONCURRENCY handshakes at a time. */
function openAll(): Promise<{ ok: number; failed: number; firstError?: string }> {
  return new Promise((resolve) => {
    let next = 0;
    let inFlight = 0;
    let ok = 0;
    let failed = 0;
    let firstError: string | undefined;
    const timer = setTimeout(() => finish(), OPEN_TIMEOUT_MS);
    const finish = () => {
      clearTimeout(timer);
      resolve({ ok, failed: clients.length - ok, ...(firstError ? { firstError } : {}) });
    };
    const pump = () => {
      while (inFlight < OPEN_CONCURRENCY && next < clients.length) {
        const client = clients[next++]!;
        client.attempts = 0;
        inFlight++;
        let done = false;
        const onReady = (): void => {
          if (done) return;
          done = true;
          ok++;
          inFlight--;
          pump();
        };
        const onFail = (why: string): void => {
          if (done) return;
          // Like a real client, retry a refused or dropped handshake a few times.
          if (++client.attempts < OPEN_ATTEMPTS) {
            setTimeout(() => openClient(client, onReady, onFail), 1000 * client.attempts);
            return;
          }
          done = true;
          failed++;
          firstError ??= why;
          inFlight--;
          pump();
        };
        openClient(client, onReady, onFail);
      }
      if (ok + failed === clients.length) finish();
    };
    pump();
  });
}

function cpuSince(mark: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(mark);
  return used.user + used.system;
}

async function handle(command: Command): Promise<void> {
  switch (command.type) {
    case 'open': {
      url = command.url;
      readyOn = command.readyOn;
      spread = Math.max(1, command.addressSpread);
      clients = command.clients.map((spec, index) => ({
        index,
        spec,
        ws: null,
        ready: false,
        lastSeq: spec.lastSeq ?? -1,
        attempts: 0,
      }));
      send({ type: 'opened', ...(await openAll()) });
      break;
    }
    case 'expect': {
      base = command.base;
      count = command.count;
      arrivals = Array.from({ length: count }, () => new Float64Array(clients.length));
      arrived = new Uint32Array(count);
      seen = new Uint8Array(count * clients.length);
      duplicates = 0;
      gaps = 0;
      cpuMark = process.cpuUsage();
      wallMark = nowMs();
      break;
    }
    case 'collect': {
      send({
        type: 'collected',
        arrivals: arrivals.map((a, k) => a.slice(0, arrived[k])),
        duplicates,
        gaps,
        cpuMicros: cpuSince(cpuMark),
        wallMs: nowMs() - wallMark,
      });
      break;
    }
    case 'progress': {
      let delivered = 0;
      for (const n of arrived) delivered += n;
      send({ type: 'progress', delivered });
      break;
    }
    case 'positions': {
      send({ type: 'positions', seqs: clients.map((c) => c.lastSeq), duplicates, gaps });
      break;
    }
    case 'drop': {
      for (const client of clients) {
        client.ws?.removeAllListeners('close');
        client.ws?.terminate();
        client.ws = null;
        client.ready = false;
      }
      send({ type: 'dropped' });
      break;
    }
    case 'reopen': {
      duplicates = 0;
      gaps = 0;
      count = 0;
      const mark = process.cpuUsage();
      const caughtUp = new Float64Array(clients.length).fill(Number.NaN);
      const finished = new Promise<void>((resolve) => {
        storm = { target: command.targetSeq, started: nowMs(), caughtUp, pending: clients.length, done: resolve };
      });
      const opened = await openAll();
      await Promise.race([finished, new Promise((r) => setTimeout(r, 60_000))]);
      storm = null;
      send({
        type: 'reopened',
        caughtUpMs: caughtUp,
        behind: caughtUp.filter((v) => Number.isNaN(v)).length,
        duplicates,
        gaps,
        failed: opened.failed,
        cpuMicros: cpuSince(mark),
      });
      break;
    }
    case 'close': {
      for (const client of clients) {
        client.ws?.removeAllListeners('close');
        client.ws?.terminate();
      }
      clients = [];
      send({ type: 'closed' });
      break;
    }
  }
}

process.on('message', (command: Command) => {
  handle(command).catch((error: unknown) => {
    console.error('generator failed', error);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
