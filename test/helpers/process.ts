/**
 * A real signal-desk server as a child process (`node --import tsx server/main.ts`), for
 * tests that kill, restart and observe it from outside: crash durability, chaos, cluster.
 *
 * Guarantees: `start()` resolves only once the process logged "signal-desk is serving"
 * (its port is read from that JSON line); `kill(signal)` resolves once the process has
 * exited; every stdout/stderr line is kept in `logs`, across restarts, so a test can grep
 * what the server wrote. A restart keeps the environment and, by default, the port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { entryArgs } from './entry.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ServerProcessOptions {
  /** Environment on top of PATH/HOME; DATABASE_URL is required. PORT 0 picks a free one on first start. */
  env: Record<string, string>;
  /** How long to wait for the ready line (default 30 s). */
  readyTimeoutMs?: number;
  /** Keep the port of the first start on restarts, so clients reconnect to the same URL (default true). */
  stickyPort?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ServerProcess {
  /** Every line the server printed, stdout and stderr, across all starts. */
  readonly logs: string[] = [];
  port = 0;
  starts = 0;
  private child: ChildProcess | null = null;
  private exited: Promise<ExitInfo> | null = null;

  constructor(private readonly options: ServerProcessOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The one-time setup code the server printed on its first start. */
  setupCode(): string {
    for (const line of [...this.logs].reverse()) {
      if (!line.includes('"setupCode"')) continue;
      const code = (JSON.parse(line) as { setupCode?: unknown }).setupCode;
      if (typeof code === 'string') return code;
    }
    throw new Error('the server printed no setup code');
  }

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('server process already running');
    const sticky = this.options.stickyPort ?? true;
    const port = sticky && this.port ? String(this.port) : (this.options.env.PORT ?? '0');
    const child = spawn(process.execPath, entryArgs('main'), {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        NODE_NO_WARNINGS: '1',
        ...this.options.env,
        PORT: port,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    this.exited = once(child, 'exit').then(([code, signal]) => {
      this.child = null;
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });

    const ready = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server not ready within ${this.options.readyTimeoutMs ?? 30_000} ms`)),
        this.options.readyTimeoutMs ?? 30_000,
      );
      const onLine = (line: string) => {
        this.logs.push(line);
        if (!line.includes('signal-desk is serving')) return;
        try {
          const parsed = JSON.parse(line) as { port?: number };
          if (typeof parsed.port === 'number') {
            clearTimeout(timer);
            resolve(parsed.port);
          }
        } catch {
          /* not the JSON line */
        }
      };
      createInterface({ input: child.stdout! }).on('line', onLine);
      createInterface({ input: child.stderr! }).on('line', (line) => this.logs.push(line));
      void this.exited!.then((info) => {
        clearTimeout(timer);
        reject(
          new Error(
            `server exited before ready (code ${info.code}, signal ${info.signal}):\n${this.logs.slice(-20).join('\n')}`,
          ),
        );
      });
    });
    this.port = await ready;
  }

  /** Sends `signal` and waits for the exit. A no-op when not running. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo | null> {
    const child = this.child;
    if (!child || !this.exited) return null;
    child.kill(signal);
    return this.exited;
  }

  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(signal);
    await this.start();
  }

  /** Polls `/readyz` until the database answers (start() already waits for the listen line). */
  async waitReady(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(`${this.url}/readyz`);
        if (res.ok) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`${this.url}/readyz not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops for good: SIGTERM (graceful), then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (!this.child) return;
    const exited = this.exited!;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Starts a server process and waits until it serves. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const server = new ServerProcess(options);
  await server.start();
  return server;
}
