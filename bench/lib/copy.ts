import { closeSync, copyFileSync, fsyncSync, openSync } from 'node:fs';

/**
 * Copies `from` to `to` and returns once the copy is on disk. Left in the page cache, a fresh
 * copy of a database is written back by the kernel during the measurement that follows, and
 * a server's durable commits (fsync) wait behind that writeback: a benchmark's own artefact.
 */
export function copyToDisk(from: string, to: string): void {
  copyFileSync(from, to);
  const fd = openSync(to, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
