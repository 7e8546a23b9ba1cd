/** `export`: the whole log (or one channel) with its hashes, page by page, to a file or stdout. */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { encodeEvent, EXPORT_FORMATS, exportPreamble, logPages, type ExportFormat } from '../../core/event-codec.js';
import { CliError } from '../cli-error.js';
import { withStore } from '../context.js';
import { startProgress } from '../progress.js';

async function write(stream: Writable, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

export function exportCommand(): Command {
  return new Command('export')
    .description('write the log with its hashes as NDJSON (one event per line) or CSV, verifiable with `verify`')
    .addOption(
      new Option('--format <format>', 'ndjson or csv (default: from --out, else ndjson)').choices(EXPORT_FORMATS),
    )
    .option('--out <file>', 'write to this file (default: stdout)')
    .option('--channel <slug>', 'only this channel (verify such a file with `verify --partial`)')
    .action(async (options: { format?: ExportFormat; out?: string; channel?: string }) => {
      const format: ExportFormat =
        options.format ?? (options.out && extname(options.out).toLowerCase() === '.csv' ? 'csv' : 'ndjson');
      await withStore(
        async (store) => {
          if (options.channel && !(await store.getChannel(options.channel))) {
            throw new CliError(`channel ${options.channel} does not exist`);
          }
          const upTo = await store.headSeq();
          // Written beside the target and renamed at the end: a failed export leaves no half file.
          const partial = options.out ? `${options.out}.partial-${process.pid}` : null;
          const out: Writable = partial ? createWriteStream(partial, { flags: 'wx' }) : process.stdout;
          // A reader that stops early (`| head`) is not an error worth a stack trace.
          if (!partial)
            process.stdout.on('error', (error: NodeJS.ErrnoException) => {
              if (error.code === 'EPIPE') process.exit(0);
            });
          const progress = startProgress('export', upTo, 'seq');
          let count = 0;
          try {
            if (partial) await once(out, 'open');
            await write(out, exportPreamble(format));
            for await (const page of logPages(store, { channels: options.channel ? [options.channel] : 'all', upTo })) {
              await write(out, page.map((event) => encodeEvent(event, format)).join(''));
              count += page.length;
              progress.update(page[page.length - 1]!.seq);
            }
            progress.update(upTo);
            if (partial) {
              out.end();
              await once(out, 'finish');
              await rename(partial, options.out!);
            }
          } catch (error) {
            if (partial) {
              out.destroy();
              await rm(partial, { force: true });
            }
            if ((error as NodeJS.ErrnoException).code) {
              throw new CliError(`cannot write ${options.out ?? 'stdout'}: ${(error as Error).message}`);
            }
            throw error;
          } finally {
            progress.stop();
          }
          process.stderr.write(
            `exported ${count} events (log head seq ${upTo}) as ${format}${options.out ? ` to ${options.out}` : ''}\n`,
          );
        },
        { mustExist: true },
      );
    });
}
