/**
 * What every measurement shares: the options, the load generators, and a seeded
 * signal-desk database (built once per run, copied fresh for every server start).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyToDisk } from './copy.js';
import { LoadGenerators } from './load.js';
import { seedAccounts, type Seeded } from './seed.js';
import { RunningSystem, type SignalDeskSetup, type SystemName } from './systems.js';

export interface BenchOptions {
  quick: boolean;
  systems: readonly SystemName[];
  /** Overrides the fan-out subscriber counts (`--sizes 5000,20000`). */
  sizes?: number[] | undefined;
  /** Extra node flags for every server started (`--server-args=--cpu-prof`), for profiling. */
  serverArgs?: string[] | undefined;
  /** Where the memory measurement's servers write a heap snapshot each (`--heap-snapshots DIR`). */
  heapSnapshots?: string | undefined;
  /** Load-generator processes. */
  generators: number;
  log: (line: string) => void;
}

export class BenchContext {
  readonly load: LoadGenerators;
  private readonly dir = mkdtempSync(join(tmpdir(), 'signal-desk-bench-'));
  private seeded: { file: string; seed: Seeded } | undefined;
  private starts = 0;

  constructor(
    readonly options: BenchOptions,
    /** Sessions to seed: the largest subscriber count any selected measurement needs. */
    private readonly maxSubscribers: number,
  ) {
    this.load = new LoadGenerators(options.generators);
  }

  /** Where signal-desk's databases are written during the run. */
  get dataDir(): string {
    return this.dir;
  }

  get log(): (line: string) => void {
    return this.options.log;
  }

  private async seed(): Promise<{ file: string; seed: Seeded }> {
    if (!this.seeded) {
      const file = join(this.dir, 'seed.db');
      const started = Date.now();
      const seed = await seedAccounts(file, this.maxSubscribers);
      this.log(`seeded ${this.maxSubscribers} subscribers with sessions in ${Date.now() - started} ms`);
      this.seeded = { file, seed };
    }
    return this.seeded;
  }

  /** Starts a fresh server of `name` (signal-desk on a fresh copy of the seeded database). */
  async start(
    name: SystemName,
    nodeArgs: readonly string[] = [],
    env: Record<string, string> = {},
  ): Promise<RunningSystem> {
    const { serverArgs } = this.options;
    nodeArgs = [...nodeArgs, ...(serverArgs ?? [])];
    let desk: SignalDeskSetup | undefined;
    if (name === 'signal-desk') {
      const { file, seed } = await this.seed();
      const copy = join(this.dir, `run-${++this.starts}.db`);
      copyToDisk(file, copy);
      desk = { databaseFile: copy, ...seed };
    }
    const system = await RunningSystem.start(name, desk, nodeArgs, env);
    // Profiles and reports are named by process id: say which server each one is.
    if (serverArgs?.length) this.log(`${name} server started as pid ${system.pid}`);
    return system;
  }

  /** Runs `fn` against a fresh server, closing its clients and stopping it afterwards. */
  async with<T>(
    name: SystemName,
    fn: (system: RunningSystem) => Promise<T>,
    nodeArgs: readonly string[] = [],
  ): Promise<T> {
    const system = await this.start(name, nodeArgs);
    try {
      return await fn(system);
    } finally {
      await this.load.closeClients();
      await system.stop();
    }
  }

  close(): void {
    this.load.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
