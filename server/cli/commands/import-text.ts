/**
 * `import-text FILE --channel S [--market M] [--dry-run]`: publishes a file of text signals,
 * blocks separated by lines of `---` (a blank line cannot separate signals: a signal's own
 * lines are often blank-separated). Each block is read by `parseTextSignal`, exactly as the
 * compose form's paste box and the TradingView inlet read text.
 *
 * Guarantees: a refused block is reported with the line it starts on and one reason per field,
 * and the others are still published; every published block carries an idempotency key made
 * of the channel and the sha256 of the block, so running the same file again (or a file that
 * repeats a block) publishes nothing twice; `--dry-run` writes nothing. Publishing goes through
 * `SignalService` over the configured bus, so a PostgreSQL cluster delivers at once (a SQLite
 * server notices the commits of this process within a second). Exits 1 when any block was refused.
 */
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { MARKETS, slugSchema, type Market, type SignalInput } from '../../../shared/schemas.js';
import { parseTextSignal, type ParsedTextSignal } from '../../../shared/text-signal.js';
import { sha256Hex } from '../../auth/tokens.js';
import { AppError } from '../../core/errors.js';
import type { Publisher } from '../../core/policy.js';
import type { SignalService } from '../../core/signals.js';
import type { Store } from '../../store/store.js';
import { CliError } from '../cli-error.js';
import { cliLogger, withStore } from '../context.js';
import { startProgress } from '../progress.js';

export interface TextBlock {
  /** 1-based line of the block's first non-blank line. */
  line: number;
  text: string;
}

const SEPARATOR = /^\s*-{3,}\s*$/;

/** The blocks of a file: text between lines of `---`, blank blocks left out. */
export function splitBlocks(content: string): TextBlock[] {
  const blocks: TextBlock[] = [];
  let lines: string[] = [];
  let start = 0;
  const flush = () => {
    const text = lines.join('\n').trim();
    if (text) blocks.push({ line: start, text });
    lines = [];
    start = 0;
  };
  content
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (SEPARATOR.test(line)) return flush();
      if (start === 0 && line.trim()) start = i + 1;
      if (start) lines.push(line.trimEnd());
    });
  flush();
  return blocks;
}

/** The same block, on the same channel, is the same signal: whitespace at line ends does not count. */
export function blockKey(channel: string, block: TextBlock): string {
  return `import-text:${channel}:${sha256Hex(block.text)}`;
}

type Reading =
  | { block: TextBlock; ok: true; signal: ParsedTextSignal; warnings: string[] }
  | { block: TextBlock; ok: false; errors: Record<string, string> };

const describeSignal = (s: ParsedTextSignal) =>
  `${s.side} ${s.symbol} (${s.market}) entry ${s.entry}, SL ${s.stopLoss}, TP ${s.takeProfits.join(' ')}`;

function reportRefusal(block: TextBlock, errors: Record<string, string>): void {
  console.log(`line ${block.line}: refused`);
  for (const [field, reason] of Object.entries(errors)) console.log(`  ${field}: ${reason}`);
}

function reportWarnings(warnings: readonly string[]): void {
  for (const warning of warnings) console.log(`  note: ${warning}`);
}

const publisher: Publisher = { author: 'cli:import-text', canPublishTo: () => true };

/** Runs `fn` with a SignalService over the configured store and bus (as `withAccounts` does for accounts). */
async function withSignals<T>(fn: (signals: SignalService, store: Store) => Promise<T>): Promise<T> {
  const [{ openBus }, { SignalService: Service }] = await Promise.all([
    import('../../runtime.js'),
    import('../../core/signals.js'),
  ]);
  return withStore(
    async (store, config) => {
      const bus = await openBus(config, store, cliLogger());
      try {
        return await fn(new Service(store, bus), store);
      } finally {
        await bus.close();
      }
    },
    { mustExist: true },
  );
}

async function requireChannel(store: Store, channel: string): Promise<void> {
  if (!(await store.getChannel(channel))) throw new CliError(`channel ${channel} does not exist`);
}

interface Tally {
  published: number;
  repeated: number;
  refused: number;
}

type Valid = Extract<Reading, { ok: true }>;

/** Reports (and, unless a dry run, publishes) every block in file order. */
async function importAll(readings: readonly Reading[], channel: string, dryRun: boolean): Promise<Tally> {
  const tally: Tally = { published: 0, repeated: 0, refused: 0 };
  const each = async (act: (reading: Valid) => Promise<void>) => {
    const progress = startProgress(dryRun ? 'reading' : 'publishing', readings.length, 'blocks');
    try {
      for (const [i, reading] of readings.entries()) {
        if (reading.ok) await act(reading);
        else {
          tally.refused++;
          reportRefusal(reading.block, reading.errors);
        }
        progress.update(i + 1);
      }
    } finally {
      progress.stop();
    }
  };
  if (dryRun) {
    await withStore((store) => requireChannel(store, channel), { mustExist: true });
    await each(async (reading) => {
      console.log(`line ${reading.block.line}: valid ${describeSignal(reading.signal)}`);
      reportWarnings(reading.warnings);
    });
  } else {
    await withSignals(async (signals, store) => {
      await requireChannel(store, channel);
      await each((reading) =>
        publishOne(
          signals,
          reading,
          { ...reading.signal, channel, idempotencyKey: blockKey(channel, reading.block) },
          tally,
        ),
      );
    });
  }
  return tally;
}

async function publishOne(signals: SignalService, reading: Valid, input: SignalInput, tally: Tally): Promise<void> {
  try {
    const { event, replayed } = await signals.publish(publisher, input);
    if (replayed) {
      tally.repeated++;
      console.log(`line ${reading.block.line}: already published (#${event.seq})`);
      return;
    }
    tally.published++;
    console.log(`line ${reading.block.line}: published #${event.seq} ${describeSignal(reading.signal)}`);
    reportWarnings(reading.warnings);
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    tally.refused++;
    // The same block published before with another --market reads differently: the key says so.
    const reason =
      error.code === 'idempotency_conflict'
        ? { text: 'this block was published before with other options (--market); it is not published again' }
        : (error.fields ?? { text: error.message });
    reportRefusal(reading.block, reason);
  }
}

export function importTextCommand(): Command {
  return new Command('import-text')
    .description(
      'publish a file of text signals (the format the compose form’s paste box reads), blocks separated by lines of ---; ' +
        'refused blocks are reported with their line, the rest published once (a second run publishes nothing again); ' +
        'exits 1 when any block was refused',
    )
    .argument('<file>', 'the text file')
    .requiredOption('--channel <slug>', 'the channel to publish to')
    .addOption(new Option('--market <market>', 'market of symbols that do not tell theirs').choices(MARKETS))
    .option('--dry-run', 'read and report every block, publish nothing')
    .action(async (file: string, options: { channel: string; market?: Market; dryRun?: boolean }) => {
      const channel = slugSchema.safeParse(options.channel);
      if (!channel.success) throw new CliError(`--channel: ${channel.error.issues[0]?.message ?? 'is not a slug'}`);
      let content: string;
      try {
        content = await readFile(file, 'utf8');
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
      }
      const blocks = splitBlocks(content);
      if (blocks.length === 0)
        throw new CliError(`${file} holds no text signals (blocks are separated by lines of ---)`);

      const readings: Reading[] = blocks.map((block) => {
        const parsed = parseTextSignal(block.text, options.market ? { market: options.market } : {});
        return parsed.ok ? { block, ...parsed } : { block, ok: false, errors: parsed.errors };
      });
      const tally = await importAll(readings, channel.data, options.dryRun === true);
      const valid = readings.length - tally.refused;
      console.log(
        options.dryRun
          ? `dry run: ${valid} of ${blocks.length} blocks are valid signals for #${channel.data}, ` +
              `${tally.refused} refused; nothing was published`
          : `published ${tally.published} of ${blocks.length} blocks to #${channel.data}: ` +
              `${tally.repeated} already published, ${tally.refused} refused`,
      );
      if (tally.refused > 0) throw new CliError(`${tally.refused} of ${blocks.length} blocks were refused`);
    });
}
