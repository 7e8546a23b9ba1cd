/** `verify [FILE]`: checks every hash chain of an export or of the database; exit 0 when intact, 1 when not. */
import { Command } from 'commander';
import type { StoredEvent } from '../../../shared/events.js';
import { describeProblem, verifyFile, verifyStore, type ChainReport } from '../chain-check.js';
import { CliError } from '../cli-error.js';
import { withStore } from '../context.js';
import { detectFormat } from '../event-file.js';
import { startProgress } from '../progress.js';
import { checkSignatures, HeadTracker, readHeadFile, readPublicKey } from '../signed-head.js';

function print(report: ChainReport, what: string): void {
  if (!report.ok) {
    console.log(`FAILED ${what}: ${describeProblem(report.problem, report.line)}`);
    process.exitCode = 1;
    return;
  }
  console.log(
    `OK ${what}: ${report.count} events in ${report.heads.size} channel(s), last seq ${report.lastSeq}; every chain verifies`,
  );
  for (const [channel, tip] of [...report.heads].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${channel}: head seq ${tip.seq} hash ${tip.hash}`);
  }
}

export function verifyCommand(): Command {
  return new Command('verify')
    .description('check the hash chains of an export FILE, or of the database (DATABASE_URL) without one')
    .argument('[file]', 'an export (NDJSON or CSV)')
    .option('--head <file>', 'also check heads signed by the server (a saved GET /api/chain/head answer)')
    .option('--key <key>', 'the public key for --head: a file (PEM, or GET /api/chain/key JSON) or raw base64')
    .option('--partial', 'the file is a filtered export (one channel, or a subscriber’s): gaps in seq are expected')
    .action(async (file: string | undefined, options: { partial?: boolean; head?: string; key?: string }) => {
      if (options.key && !options.head) throw new CliError('--key goes with --head');
      const signed = options.head ? readHeadFile(options.head) : undefined;
      if (signed) {
        const key = options.key ? readPublicKey(options.key) : signed.key;
        if (!key) throw new CliError('--head needs --key: the public key from GET /api/chain/key');
        checkSignatures(signed.heads, key);
      }
      const tracker = signed ? new HeadTracker(signed.heads) : undefined;
      const onEvent = tracker ? (event: StoredEvent) => tracker.observe(event) : undefined;

      let report: ChainReport;
      let what: string;
      if (file) {
        const format = await detectFormat(file);
        const progress = startProgress('verifying', 0);
        report = await verifyFile(file, format, { contiguous: !options.partial, progress, onEvent }).finally(() =>
          progress.stop(),
        );
        what = file;
      } else {
        if (options.partial) throw new CliError('--partial applies to a file only');
        report = await withStore(
          async (store) => {
            const progress = startProgress('verifying', 0, 'seq');
            return verifyStore(store, progress, onEvent).finally(() => progress.stop());
          },
          { mustExist: true },
        );
        what = 'database';
      }
      print(report, what);
      if (!report.ok && file && !options.partial && /event\(s\) missing/.test(report.problem.reason)) {
        console.log('(if this is a filtered export, e.g. from --channel or GET /api/export, pass --partial)');
      }
      if (!report.ok || !tracker) return;
      for (const { head, problem } of tracker.results()) {
        if (problem) {
          console.log(`FAILED signed head ${head.channel} seq ${head.seq} (signed ${head.signedAt}): ${problem}`);
          process.exitCode = 1;
        } else {
          console.log(
            `OK signed head ${head.channel} seq ${head.seq} (signed ${head.signedAt}): signature valid, history matches`,
          );
        }
      }
    });
}
