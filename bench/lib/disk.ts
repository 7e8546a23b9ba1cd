/**
 * What a durable commit asks of the disk alone: the pages one SQLite append writes to its
 * WAL, then fsync — the call SQLite makes here (the SQLite inside better-sqlite3 is built
 * without fdatasync) — with no database, no HTTP and no JavaScript around it. It is the floor
 * under any durable acknowledgement on this machine: the durable measurement runs it beside
 * signal-desk, and `fsync-probe.ts` on its own.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * WAL frames one append writes: 12 to 14 (12 most often) in
 * `strace -f -e trace=pwrite64,fsync node --import tsx bench/append-probe.ts --count 300`,
 * one per page it changes — the event, its three indexes, the signal row and its indexes,
 * the log and channel heads.
 */
export const PAGES_PER_APPEND = 13;
/** A WAL frame: a 24-byte header and a 4 KiB page. */
const FRAME = 24 + 4096;
/** Frames before the file wraps, as a WAL restarts after a checkpoint (about 4 MiB). */
const RING = 1000;

export class DiskCommits {
  private readonly dir: string;
  private readonly fd: number;
  private readonly frame = Buffer.alloc(FRAME, 0x5a);
  private next = 0;

  /** A new file in a new directory under `parent`, written through once so commits overwrite, as in a reused WAL. */
  constructor(
    parent: string,
    private readonly pages = PAGES_PER_APPEND,
  ) {
    this.dir = mkdtempSync(join(parent, '.disk-commits-'));
    this.fd = openSync(join(this.dir, 'wal'), 'w');
    for (let i = 0; i < RING; i++) writeSync(this.fd, this.frame, 0, FRAME, i * FRAME);
    fsyncSync(this.fd);
  }

  /** Writes one append's frames after the previous ones and waits for fsync. */
  commit(): void {
    for (let p = 0; p < this.pages; p++) {
      writeSync(this.fd, this.frame, 0, FRAME, (this.next++ % RING) * FRAME);
    }
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
