/**
 * `backup FILE`: a consistent copy while the server keeps writing. SQLite: the online
 * backup API, then the copy's integrity and chains are checked. PostgreSQL: `pg_dump`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Command } from 'commander';
import { openSqliteStore, SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { describeProblem, verifyStore } from '../chain-check.js';
import { CliError } from '../cli-error.js';
import { cliConfig, openCliStore } from '../context.js';
import { startProgress } from '../progress.js';

async function backupSqlite(databaseUrl: string, file: string): Promise<void> {
  const store = await openCliStore(databaseUrl, { mustExist: true });
  if (!(store instanceof SqliteStore)) throw new Error('expected a SQLite store');
  const partial = `${file}.partial-${process.pid}`;
  // A backup holds what the database holds: readable by its owner only, from its first byte.
  closeSync(openSync(partial, 'wx', 0o600));
  const progress = startProgress('backup', 0, 'pages');
  try {
    let pages = 0;
    await store.backup(partial, (done, total) => progress.update(done, (pages = total)));
    progress.update(pages);
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw new CliError(`backup to ${file} failed: ${(error as Error).message}`);
  } finally {
    progress.stop();
    await store.close();
  }

  // A backup is only as good as its check: open the copy read-only and verify it.
  const copy = openSqliteStore(file, { readonly: true });
  try {
    const integrity = copy.integrityCheck();
    if (integrity !== 'ok') throw new CliError(`the backup ${file} fails PRAGMA integrity_check: ${integrity}`);
    const report = await verifyStore(copy);
    if (!report.ok) throw new CliError(`the backup ${file} does not verify: ${describeProblem(report.problem)}`);
    console.log(
      `backed up to ${file}: ${report.count} events, last seq ${report.lastSeq}; integrity ok, chains verify`,
    );
  } finally {
    await copy.close();
  }
}

async function backupPostgres(databaseUrl: string, file: string): Promise<void> {
  const probe = spawnSync('pg_dump', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new CliError(
      'pg_dump is not on PATH: install the PostgreSQL client tools matching your server ' +
        '(Debian/Ubuntu: apt-get install postgresql-client) or run pg_dump yourself (see docs/OPERATIONS.md)',
    );
  }
  const partial = `${file}.partial-${process.pid}`;
  closeSync(openSync(partial, 'wx', 0o600));
  process.stderr.write(`backup: running ${probe.stdout.trim()} (custom format; restore with pg_restore)\n`);
  // The password goes in the environment, not argv, so it does not show in `ps`.
  const url = new URL(databaseUrl);
  const env = { ...process.env };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  url.password = '';
  const child = spawn('pg_dump', ['--format=custom', '--no-owner', `--file=${partial}`, `--dbname=${url.toString()}`], {
    stdio: ['ignore', 'inherit', 'pipe'],
    env,
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    await rm(partial, { force: true });
    throw new CliError(`pg_dump failed (exit ${code}): ${stderr.trim()}`);
  }
  await rename(partial, file);
  console.log(`backed up to ${file} with pg_dump (restore: pg_restore --dbname=<url> ${file})`);
}

export function backupCommand(): Command {
  return new Command('backup')
    .description('write a consistent copy of the database while the server runs (SQLite online backup, or pg_dump)')
    .argument('<file>', 'where to write the backup (must not exist)')
    .action(async (file: string) => {
      if (existsSync(file)) throw new CliError(`${file} already exists; choose a new file name`);
      const { databaseUrl } = cliConfig();
      if (databaseUrl.startsWith('sqlite:')) await backupSqlite(databaseUrl, file);
      else await backupPostgres(databaseUrl, file);
    });
}
