/**
 * `import FILE`: verifies the file's whole chain first — continuing the database's own
 * chains — and that every event holds only what the API would have accepted, and writes
 * nothing unless every event passes; then appends it in batches.
 */
import { Command } from 'commander';
import type { StoredEvent } from '../../../shared/events.js';
import { ChainVerifier } from '../../core/hash-chain.js';
import { contentProblem, describeProblem, verifyFile, type ChannelTip } from '../chain-check.js';
import { CliError } from '../cli-error.js';
import { withStore } from '../context.js';
import { detectFormat, readEventFile } from '../event-file.js';
import { startProgress } from '../progress.js';

const BATCH = 500;

export function importCommand(): Command {
  return new Command('import')
    .description('append an export (NDJSON or CSV) to the log; refused unless its whole chain verifies')
    .argument('<file>', 'the export file')
    .action(async (file: string) => {
      const format = await detectFormat(file);
      await withStore(async (store) => {
        const head = await store.headSeq();
        const tips = new Map<string, ChannelTip>(
          (await store.channelHeads()).map((h) => [h.channel, { hash: h.hash, createdAt: h.createdAt, seq: h.seq }]),
        );
        const start = { tips, seq: head };

        const checking = startProgress('verifying', 0);
        const report = await verifyFile(file, format, { contiguous: true, start, progress: checking, content: true });
        checking.stop();
        if (!report.ok) {
          const hint =
            head > 0 && report.problem.seq <= head
              ? `\nthe database already holds seq 1..${head}: import needs an empty log or a file that continues it at seq ${head + 1}`
              : '';
          throw new CliError(
            `refusing to import ${file}: its chain does not verify at ${describeProblem(report.problem, report.line)}; nothing was written${hint}`,
          );
        }
        if (report.count === 0) throw new CliError(`${file} holds no events; nothing to import`);

        // Second pass: the same checks again, so a file changed since the first pass cannot slip in.
        const verifier = new ChainVerifier(true, tips, head);
        const writing = startProgress('importing', report.count);
        let batch: StoredEvent[] = [];
        let written = 0;
        try {
          for await (const { line, event } of readEventFile(file, format)) {
            const problem = verifier.check(event) ?? contentProblem(event);
            if (problem) {
              throw new CliError(
                `${file} changed during the import at ${describeProblem(problem, line)}; ${written} events were written before it`,
              );
            }
            batch.push(event);
            if (batch.length === BATCH) {
              await store.importEvents(batch);
              written += batch.length;
              batch = [];
              writing.update(written);
            }
          }
          if (batch.length > 0) await store.importEvents(batch);
          written += batch.length;
          writing.update(written);
        } finally {
          writing.stop();
        }
        console.log(`imported ${written} events (seq ${head + 1}..${report.lastSeq}); every chain verified`);
      });
    });
}
