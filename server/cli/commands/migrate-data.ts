/**
 * `migrate-data --from <sqlite url> --to <postgres url>`: moves an installation to another
 * database. Users (same ids, password hashes, read positions), channels, grants, live
 * sessions and idempotency keys are copied as rows; the log goes through `importEvents`
 * in batches so seq, ids and hashes stay exactly as they were, and the target's chains
 * are verified at the end. Run it with the server stopped: later writes are not copied.
 */
import { Command } from 'commander';
import { logPages } from '../../core/event-codec.js';
import { SqlStore } from '../../store/sql-store.js';
import type { Store } from '../../store/store.js';
import { describeProblem, verifyStore } from '../chain-check.js';
import { CliError } from '../cli-error.js';
import { openCliStore, redactUrl } from '../context.js';
import { startProgress } from '../progress.js';

const BATCH = 500;

function sqlStore(store: Store, url: string): SqlStore {
  if (!(store instanceof SqlStore)) throw new CliError(`${redactUrl(url)}: migrate-data needs a SQL store`);
  return store;
}

async function requireEmpty(target: Store, url: string): Promise<void> {
  const [head, users, channels] = await Promise.all([target.headSeq(), target.listUsers(), target.listChannels()]);
  if (head > 0 || users.length > 0 || channels.length > 0) {
    throw new CliError(
      `the target ${redactUrl(url)} is not empty (${head} events, ${users.length} users, ${channels.length} channels); ` +
        'migrate-data only fills an empty database',
    );
  }
}

/** Accounts as rows, ids kept: events name their authors and grants their users by id. */
async function copyAccounts(
  from: SqlStore,
  to: SqlStore,
): Promise<{ users: number; channels: number; grants: number }> {
  const users = await from.db.selectFrom('users').selectAll().execute();
  const channels = await from.db.selectFrom('channels').selectAll().execute();
  const grants = await from.db.selectFrom('grants').selectAll().execute();
  const now = new Date().toISOString();
  const sessions = await from.db
    .selectFrom('sessions')
    .selectAll()
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .execute();
  await to.db.transaction().execute(async (trx) => {
    for (const row of users) await trx.insertInto('users').values(row).execute();
    for (const row of channels) await trx.insertInto('channels').values(row).execute();
    for (const row of grants) await trx.insertInto('grants').values(row).execute();
    for (const row of sessions) await trx.insertInto('sessions').values(row).execute();
  });
  return { users: users.length, channels: channels.length, grants: grants.length };
}

async function copyIdempotencyKeys(from: SqlStore, to: SqlStore): Promise<void> {
  const keys = await from.db.selectFrom('idempotency_keys').selectAll().execute();
  for (let i = 0; i < keys.length; i += BATCH) {
    await to.db
      .insertInto('idempotency_keys')
      .values(keys.slice(i, i + BATCH))
      .execute();
  }
}

export function migrateDataCommand(): Command {
  return new Command('migrate-data')
    .description('copy a whole installation (accounts and the log, chain intact) into an empty database')
    .requiredOption('--from <url>', 'source, e.g. sqlite:./data/signal-desk.db')
    .requiredOption('--to <url>', 'empty target, e.g. postgres://user@host:5432/signaldesk')
    .action(async (options: { from: string; to: string }) => {
      for (const [flag, url] of [
        ['--from', options.from],
        ['--to', options.to],
      ] as const) {
        if (!/^sqlite:.+/.test(url) && !/^postgres(ql)?:\/\/.+/.test(url)) {
          throw new CliError(`${flag} must be sqlite:<path> or postgres://user@host:port/database`);
        }
      }
      if (options.from === options.to) throw new CliError('--from and --to name the same database');

      const source = await openCliStore(options.from, { mustExist: true });
      let target: Store | undefined;
      try {
        target = await openCliStore(options.to);
        await requireEmpty(target, options.to);
        const from = sqlStore(source, options.from);
        const to = sqlStore(target, options.to);

        // The source must verify before anything is written, as for `import`.
        const checking = startProgress('verifying source', 0, 'seq');
        const sourceReport = await verifyStore(source, checking).finally(() => checking.stop());
        if (!sourceReport.ok) {
          throw new CliError(
            `the source chain does not verify at ${describeProblem(sourceReport.problem)}; nothing was written`,
          );
        }

        const accounts = await copyAccounts(from, to);
        const upTo = sourceReport.lastSeq;
        const copying = startProgress('copying log', upTo, 'events');
        let copied = 0;
        try {
          for await (const page of logPages(source, { channels: 'all', upTo, pageSize: BATCH })) {
            await target.importEvents(page);
            copied += page.length;
            copying.update(copied);
          }
        } finally {
          copying.stop();
        }
        await copyIdempotencyKeys(from, to);

        const verifying = startProgress('verifying target', upTo, 'seq');
        const targetReport = await verifyStore(target, verifying).finally(() => verifying.stop());
        if (!targetReport.ok) {
          throw new CliError(
            `the target chain does not verify after the copy: ${describeProblem(targetReport.problem)}`,
          );
        }
        for (const [channel, tip] of sourceReport.heads) {
          if (targetReport.heads.get(channel)?.hash !== tip.hash) {
            throw new CliError(`the target's head of channel ${channel} differs from the source's`);
          }
        }
        console.log(
          `migrated ${accounts.users} users, ${accounts.channels} channels, ${accounts.grants} grants and ` +
            `${copied} events to ${redactUrl(options.to)}; the target chain verifies and its heads match the source`,
        );
      } finally {
        await source.close();
        await target?.close();
      }
    });
}
