/**
 * What a CLI command opens: the configured store (DATABASE_URL, as the server reads it),
 * and for account changes the services over the configured bus, so on PostgreSQL every
 * running node hears a revoke at once. Logs go to stderr: stdout may carry an export.
 */
import { existsSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type { AccountService } from '../core/accounts.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { openStore, sqlitePath } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { CliError } from './cli-error.js';

export function cliLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { service: 'signal-desk-cli' } }, pino.destination(2));
}

export function cliConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

/** Opens and migrates the store `databaseUrl` names; `mustExist` refuses to create a new SQLite file. */
export async function openCliStore(
  databaseUrl: string,
  options: { mustExist?: boolean; onMigrated?: (applied: number) => void } = {},
): Promise<Store> {
  if (options.mustExist && databaseUrl.startsWith('sqlite:')) {
    const file = sqlitePath(databaseUrl);
    if (!existsSync(file)) throw new CliError(`no database at ${file} (DATABASE_URL=${databaseUrl})`);
  }
  let store: Store;
  try {
    store = await openStore(databaseUrl);
    const applied = await store.migrate();
    options.onMigrated?.(applied);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot open the database ${redactUrl(databaseUrl)}: ${(error as Error).message}`);
  }
  return store;
}

/** A database URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}

export async function withStore<T>(
  fn: (store: Store, config: Config) => Promise<T>,
  options: { mustExist?: boolean } = {},
): Promise<T> {
  const config = cliConfig();
  const store = await openCliStore(config.databaseUrl, options);
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}

export async function withAccounts<T>(fn: (accounts: AccountService, store: Store) => Promise<T>): Promise<T> {
  const [{ openBus }, { AccountService }] = await Promise.all([import('../runtime.js'), import('../core/accounts.js')]);
  return withStore(async (store, config) => {
    const bus = await openBus(config, store, cliLogger());
    try {
      return await fn(new AccountService(store, bus, config.sessionTtlMs), store);
    } finally {
      await bus.close();
    }
  });
}
