/**
 * The orchestrator's handle on the load generators: a few child processes (one per core by
 * default) that share the clients between them. Every call goes to all of them and merges
 * their answers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClientSpec, Collected, Command, Opened, Positions, Reopened, Reply } from '../load/protocol.js';

const GENERATOR = fileURLToPath(new URL('../load/generator.ts', import.meta.url));

export interface Delivery {
  /** Per signal, arrival times (monotonic ms) at every client that received it. */
  arrivals: Float64Array[];
  duplicates: number;
  gaps: number;
  /** Generator CPU in the window, as a share of one core (1 = one core busy). */
  generatorCores: number;
}

export interface Storm {
  caughtUpMs: number[];
  behind: number;
  duplicates: number;
  gaps: number;
  failed: number;
}

class Generator {
  private readonly child: ChildProcess;
  private waiting: Array<(reply: Reply) => void> = [];

  constructor() {
    this.child = fork(GENERATOR, [], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (reply: Reply) => this.waiting.shift()?.(reply));
    this.child.on('exit', (code) => {
      if (code) for (const w of this.waiting.splice(0)) w({ type: 'closed' });
    });
  }

  ask<R extends Reply>(command: Command): Promise<R> {
    return new Promise((resolve) => {
      this.waiting.push((reply) => resolve(reply as R));
      this.child.send(command);
    });
  }

  tell(command: Command): void {
    this.child.send(command);
  }

  kill(): void {
    this.child.kill();
  }
}

export class LoadGenerators {
  private readonly generators: Generator[];

  constructor(processes: number) {
    this.generators = Array.from({ length: processes }, () => new Generator());
  }

  /** Opens the clients (split round-robin); rejects unless every one of them connected. */
  async open(url: string, clients: readonly ClientSpec[], readyOn: 'connect' | 'live'): Promise<void> {
    const n = this.generators.length;
    const replies = await Promise.all(
      this.generators.map((g, i) =>
        g.ask<Opened>({
          type: 'open',
          url,
          clients: clients.filter((_, j) => j % n === i),
          readyOn,
          addressSpread: 50,
        }),
      ),
    );
    const failed = replies.reduce((sum, r) => sum + r.failed, 0);
    if (failed > 0) {
      throw new Error(
        `${failed} of ${clients.length} clients failed to connect: ${replies.find((r) => r.firstError)?.firstError}`,
      );
    }
  }

  /** Starts a measurement window for the signals numbered base … base + count - 1. */
  expect(base: number, count: number): void {
    for (const g of this.generators) g.tell({ type: 'expect', base, count });
  }

  async collect(): Promise<Delivery> {
    const replies = await Promise.all(this.generators.map((g) => g.ask<Collected>({ type: 'collect' })));
    const count = replies[0]?.arrivals.length ?? 0;
    const arrivals = Array.from({ length: count }, (_, k) => {
      const parts = replies.map((r) => r.arrivals[k]!);
      const merged = new Float64Array(parts.reduce((sum, p) => sum + p.length, 0));
      let at = 0;
      for (const p of parts) {
        merged.set(p, at);
        at += p.length;
      }
      return merged;
    });
    const wallMs = Math.max(...replies.map((r) => r.wallMs));
    return {
      arrivals,
      duplicates: replies.reduce((s, r) => s + r.duplicates, 0),
      gaps: replies.reduce((s, r) => s + r.gaps, 0),
      generatorCores: replies.reduce((s, r) => s + r.cpuMicros, 0) / 1000 / wallMs,
    };
  }

  /** Deliveries recorded so far in the current window, over all clients. */
  async delivered(): Promise<number> {
    const replies = await Promise.all(
      this.generators.map((g) => g.ask<{ type: 'progress'; delivered: number }>({ type: 'progress' })),
    );
    return replies.reduce((s, r) => s + r.delivered, 0);
  }

  /** Every client's highest seq received so far (all generators), and order problems seen. */
  async positions(): Promise<{ seqs: number[]; duplicates: number; gaps: number }> {
    const replies = await Promise.all(this.generators.map((g) => g.ask<Positions>({ type: 'positions' })));
    return {
      seqs: replies.flatMap((r) => r.seqs),
      duplicates: replies.reduce((s, r) => s + r.duplicates, 0),
      gaps: replies.reduce((s, r) => s + r.gaps, 0),
    };
  }

  async drop(): Promise<void> {
    await Promise.all(this.generators.map((g) => g.ask({ type: 'drop' })));
  }

  /** Reconnects every client at once with its lastSeq; resolves when all caught up to `targetSeq`. */
  async reopen(targetSeq: number): Promise<Storm> {
    const replies = await Promise.all(this.generators.map((g) => g.ask<Reopened>({ type: 'reopen', targetSeq })));
    return {
      caughtUpMs: replies.flatMap((r) => [...r.caughtUpMs].filter((v) => !Number.isNaN(v))),
      behind: replies.reduce((s, r) => s + r.behind, 0),
      duplicates: replies.reduce((s, r) => s + r.duplicates, 0),
      gaps: replies.reduce((s, r) => s + r.gaps, 0),
      failed: replies.reduce((s, r) => s + r.failed, 0),
    };
  }

  async closeClients(): Promise<void> {
    await Promise.all(this.generators.map((g) => g.ask({ type: 'close' })));
  }

  stop(): void {
    for (const g of this.generators) g.kill();
  }
}
