/**
 * Checkpoints off the event loop. SQLite's default is to checkpoint inside the commit that
 * pushes the WAL past 1,000 pages: that commit also copies the WAL into the main file and
 * fsyncs it, and since better-sqlite3 runs on the main thread, the acknowledgement waiting
 * on it — and every other request — waits too. The server turns that off and runs the
 * checkpoints on a worker thread with its own connection instead.
 *
 * If the thread fails, the connection goes back to SQLite's own automatic checkpoints, so
 * the WAL never grows without bound.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

const CHECKPOINT_INTERVAL_MS = 500;
/** SQLite's own default, restored if the thread is lost. */
const AUTOCHECKPOINT_PAGES = 1000;

export interface CheckpointStats {
  runs: number;
  /** Frames in the WAL at the last run, and how many of them it copied. */
  lastLog: number;
  lastCheckpointed: number;
}

/** What the thread answers to each `checkpoint` request. */
type CheckpointReply = { ok: true; busy: number; log: number; checkpointed: number } | { ok: false; message: string };

/**
 * The thread: its own connection to the file, running `PRAGMA wal_checkpoint(PASSIVE)` on
 * request. PASSIVE never waits for the writer, so appends keep committing while it copies;
 * its fsync of the main file happens on this thread. Plain CommonJS source, so the same
 * code runs from TypeScript sources and from the build.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, busy: row.busy, log: row.log, checkpointed: row.checkpointed });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: String(error && error.message ? error.message : error) });
  }
});
`;
const driver = createRequire(import.meta.url).resolve('better-sqlite3');

export class BackgroundCheckpointer {
  private readonly worker: Worker;
  private readonly timer: NodeJS.Timeout;
  private inFlight = false;
  private stopped = false;
  private readonly exited: Promise<void>;
  readonly stats: CheckpointStats = { runs: 0, lastLog: 0, lastCheckpointed: 0 };

  constructor(
    private readonly raw: BetterSqlite3.Database,
    file: string,
    private readonly onFailure: (reason: string) => void = () => {},
    intervalMs = CHECKPOINT_INTERVAL_MS,
  ) {
    raw.pragma('wal_autocheckpoint = 0');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver } });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (reply: CheckpointReply) => {
      this.inFlight = false;
      if (!reply.ok) return this.fallBack(`checkpoint failed: ${reply.message}`);
      this.stats.runs++;
      this.stats.lastLog = reply.log;
      this.stats.lastCheckpointed = reply.checkpointed;
    });
    this.worker.on('error', (error) => this.fallBack(`checkpoint thread failed: ${error.message}`));
    this.worker.on('exit', (code) => {
      if (!this.stopped) this.fallBack(`checkpoint thread exited with code ${code}`);
    });
    this.timer = setInterval(() => this.request(), intervalMs);
    this.timer.unref();
  }

  /** Asks the thread for a checkpoint unless one is running; `stats` shows the result. */
  request(): void {
    if (this.stopped || this.inFlight) return;
    this.inFlight = true;
    this.worker.postMessage('checkpoint');
  }

  private fallBack(reason: string): void {
    if (this.stopped) return;
    this.stop();
    if (this.raw.open) this.raw.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    void this.worker.terminate();
    this.onFailure(reason);
  }

  private stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Stops the thread (its connection closes first, so the caller's close can finish the WAL). */
  async close(): Promise<void> {
    if (!this.stopped) {
      this.stop();
      this.worker.postMessage('close');
    }
    const timeout = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exited;
    clearTimeout(timeout);
  }
}
