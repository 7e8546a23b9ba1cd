/** `verify [FILE]`: checks every hash chain of an export or of the database; exit 0 when intact, 1 when not. */
import { Command } from 'commander';
import { describeProblem, verifyFile, verifyStore, type ChainReport } from '../chain-check.js';
import { CliError } from '../cli-error.js';
import { withStore } from '../context.js';
import { detectFormat } from '../event-file.js';
import { startProgress } from '../progress.js';

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
    .option('--partial', 'the file is a filtered export (one channel, or a subscriber’s): gaps in seq are expected')
    .action(async (file: string | undefined, options: { partial?: boolean }) => {
      if (file) {
        const format = await detectFormat(file);
        const progress = startProgress('verifying', 0);
        const report = await verifyFile(file, format, { contiguous: !options.partial, progress }).finally(() =>
          progress.stop(),
        );
        print(report, file);
        if (!report.ok && !options.partial && /event\(s\) missing/.test(report.problem.reason)) {
          console.log('(if this is a filtered export, e.g. from --channel or GET /api/export, pass --partial)');
        }
        return;
      }
      if (options.partial) throw new CliError('--partial applies to a file only');
      await withStore(
        async (store) => {
          const progress = startProgress('verifying', 0, 'seq');
          const report = await verifyStore(store, progress).finally(() => progress.stop());
          print(report, 'database');
        },
        { mustExist: true },
      );
    });
}
