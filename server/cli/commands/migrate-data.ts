/**
 * `migrate-data --from <url> --to <url>`: moves an installation to another database. What
 * the store holds besides the log (users with their password hashes and positions, channels,
 * grants, sessions, idempotency keys, settings, the signing keys' records: every `state`
 * table of `TABLES`) goes through `exportState`/`importState`, ids kept; the log goes through
 * `importEvents` in batches, so seq, ids and hashes stay exactly as they were, and the
 * target's chains are verified at the end.
 *
 * The key that signs chain heads moves too, wherever the target keeps it (in its database,
 * or a 0600 file beside a SQLite target): heads saved before the move keep verifying against
 * the same key. Run it with the server stopped: later writes are not copied.
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { uuidv7 } from 'uuidv7';
import { SIGNING_ALGORITHM } from '../../core/chain-signer.js';
import { logPages } from '../../core/event-codec.js';
import {
  keyLocation,
  readSigningKey,
  samePublicKey,
  writeKeyFile,
  type ActiveSigningKey,
  type KeyLocation,
} from '../../signing-key.js';
import type { InstallationState, Store } from '../../store/store.js';
import { describeProblem, verifyStore } from '../chain-check.js';
import { CliError } from '../cli-error.js';
import { openCliStore, redactUrl } from '../context.js';
import { startProgress } from '../progress.js';

const BATCH = 500;

async function requireEmpty(target: Store, url: string): Promise<void> {
  const [head, users, channels] = await Promise.all([target.headSeq(), target.listUsers(), target.listChannels()]);
  if (head > 0 || users.length > 0 || channels.length > 0) {
    throw new CliError(
      `the target ${redactUrl(url)} is not empty (${head} events, ${users.length} users, ${channels.length} channels); ` +
        'migrate-data only fills an empty database',
    );
  }
}

/**
 * The state as the target must hold it for `key` to stay the active signing key: its record
 * the only one unretired (the others retired now, their public halves kept), with its
 * private half when the target keeps keys in its database.
 */
function withSigningKey(state: InstallationState, key: ActiveSigningKey, target: KeyLocation): InstallationState {
  const now = new Date().toISOString();
  const privatePem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const keys = state.signing_keys.some((row) => samePublicKey(row.public_key, key.publicKeyPem))
    ? state.signing_keys
    : [
        ...state.signing_keys,
        {
          id: uuidv7(),
          algorithm: SIGNING_ALGORITHM,
          public_key: key.publicKeyPem,
          private_key: null,
          created_at: now,
          retired_at: null,
        },
      ];
  return {
    ...state,
    signing_keys: keys.map((row) =>
      samePublicKey(row.public_key, key.publicKeyPem)
        ? { ...row, retired_at: null, private_key: target.kind === 'database' ? privatePem : null }
        : { ...row, retired_at: row.retired_at ?? now },
    ),
  };
}

export function migrateDataCommand(): Command {
  return new Command('migrate-data')
    .description(
      'copy a whole installation (accounts, settings, signing key and the log, chain intact) into an empty database',
    )
    .requiredOption('--from <url>', 'source, e.g. sqlite:./data/signal-desk.db')
    .requiredOption('--to <url>', 'empty target, e.g. postgres://user@host:5432/signaldesk')
    .option('--from-key-file <path>', "the source's signing key file, if not the default beside a SQLite source")
    .option(
      '--to-key-file <path>',
      'where the target keeps its signing key, if in a file (default: beside a SQLite target, in a PostgreSQL one)',
    )
    .action(async (options: { from: string; to: string; fromKeyFile?: string; toKeyFile?: string }) => {
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

        // The source must verify before anything is written, as for `import`.
        const checking = startProgress('verifying source', 0, 'seq');
        const sourceReport = await verifyStore(source, checking).finally(() => checking.stop());
        if (!sourceReport.ok) {
          throw new CliError(
            `the source chain does not verify at ${describeProblem(sourceReport.problem)}; nothing was written`,
          );
        }

        const targetKeys = keyLocation({ databaseUrl: options.to, signingKeyFile: options.toKeyFile });
        const key = await readSigningKey(
          source,
          keyLocation({ databaseUrl: options.from, signingKeyFile: options.fromKeyFile }),
        );
        if (key && targetKeys.kind === 'file' && existsSync(targetKeys.path)) {
          throw new CliError(`${targetKeys.path} already exists; the target's signing key would not be the source's`);
        }
        let state = await source.exportState();
        if (key) state = withSigningKey(state, key, targetKeys);
        await target.importState(state);
        if (key && targetKeys.kind === 'file') {
          writeKeyFile(targetKeys.path, key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
        }

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
        const keyPlace = !key
          ? 'no signing key yet'
          : targetKeys.kind === 'file'
            ? `the signing key to ${targetKeys.path}`
            : 'the signing key into the target database';
        console.log(
          `migrated ${state.users.length} users, ${state.channels.length} channels, ${state.grants.length} grants, ` +
            `${state.settings.length} settings, ${state.signing_keys.length} signing key records, ${keyPlace} and ` +
            `${copied} events to ${redactUrl(options.to)}; the target chain verifies and its heads match the source`,
        );
      } finally {
        await source.close();
        await target?.close();
      }
    });
}
