/**
 * The three systems under test, each a real server in its own process: the floor and plain
 * baselines from bench/servers/, and signal-desk itself (`server/main.ts` on a SQLite file,
 * as an operator would run it). All publish the same signal over HTTP with keep-alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ClientSpec } from '../load/protocol.js';
import { nowMs } from '../load/protocol.js';
import { benchSignal } from './payload.js';

export const SYSTEMS = ['floor', 'plain', 'signal-desk'] as const;
export type SystemName = (typeof SYSTEMS)[number];

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Published {
  seq: number;
  /** From the request being sent to the response being read (ms). */
  ackMs: number;
}

export interface SignalDeskSetup {
  databaseFile: string;
  adminToken: string;
  tokens: readonly string[];
}

export class RunningSystem {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });

  private constructor(
    readonly name: SystemName,
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly desk: SignalDeskSetup | undefined,
  ) {}

  static async start(
    name: SystemName,
    desk?: SignalDeskSetup,
    extraNodeArgs: readonly string[] = [],
    extraEnv: Record<string, string> = {},
  ): Promise<RunningSystem> {
    const script = name === 'signal-desk' ? 'server/main.ts' : `bench/servers/${name}.ts`;
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...extraEnv };
    if (name === 'signal-desk') {
      if (!desk) throw new Error('signal-desk needs a seeded database');
      env.DATABASE_URL = `sqlite:${desk.databaseFile}`;
      // Every benchmark client connects from 127.0.0.1: a per-address cap would refuse them.
      env.MAX_CONNECTIONS_PER_ADDRESS = '0';
    }
    const child = spawn(process.execPath, ['--import', 'tsx', ...extraNodeArgs, script], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), 30_000);
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before serving`)));
      lines.on('line', (line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number; level?: number };
          if ((entry.msg === 'serving' || entry.msg === 'signal-desk is serving') && entry.port) {
            clearTimeout(timer);
            resolve(entry.port);
          } else if (entry.level !== undefined && entry.level >= 50) {
            process.stderr.write(`[${name}] ${line}\n`);
          }
        } catch {
          // Not a log line: node's own diagnostics (`--trace-gc` in --server-args), shown as they come.
          process.stderr.write(`[${name}] ${line}\n`);
        }
      });
    });
    return new RunningSystem(name, `http://127.0.0.1:${port}`, child, desk);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Signal-desk's clients wait for `live` (replay done); the baselines for the connect. */
  get readyOn(): 'connect' | 'live' {
    return this.name === 'signal-desk' ? 'live' : 'connect';
  }

  /** `n` clients that expect every seq after `lastSeq`. */
  clients(n: number, lastSeq: number): ClientSpec[] {
    if (this.desk && this.desk.tokens.length < n) throw new Error(`only ${this.desk.tokens.length} sessions seeded`);
    return Array.from({ length: n }, (_, i) => ({ lastSeq, ...(this.desk ? { token: this.desk.tokens[i]! } : {}) }));
  }

  async headSeq(): Promise<number> {
    if (this.name === 'signal-desk') {
      const res = await this.call<{ headSeq: number }>('GET', '/api/events?after=0&limit=1');
      return res.body.headSeq;
    }
    // The baselines answer a publish with its seq; a zero-count seed is a cheap way to read it.
    if (this.name === 'plain') return (await this.call<{ headSeq: number }>('POST', '/seed?count=0')).body.headSeq;
    return this.floorHead;
  }

  private floorHead = 0;

  /** Publishes benchmark signal number `index` and resolves with its acknowledgement. */
  async publish(index: number): Promise<Published> {
    const path = this.name === 'signal-desk' ? '/api/signals' : '/publish';
    const started = nowMs();
    const res = await this.call<{ seq: number }>('POST', path, benchSignal(index));
    if (res.status !== 201) throw new Error(`${this.name} publish answered ${res.status}: ${JSON.stringify(res.body)}`);
    if (this.name === 'floor') this.floorHead = Math.max(this.floorHead, res.body.seq);
    return { seq: res.body.seq, ackMs: nowMs() - started };
  }

  /** The seeded subscriber tokens (signal-desk only). */
  get subscriberTokens(): readonly string[] {
    return this.desk?.tokens ?? [];
  }

  call<T>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.url}${path}`,
        {
          method,
          agent: this.agent,
          headers: {
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
            ...(this.desk ? { authorization: `Bearer ${token ?? this.desk.adminToken}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Resident set size of the server process (bytes), from /proc. */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return Number(kb ?? 0) * 1024;
  }

  /** CPU time the server process has used so far (ms), from /proc. */
  cpuMs(): number {
    const fields = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
