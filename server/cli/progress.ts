/**
 * Progress on stderr, never stdout (an export may be written there): a bar when stderr is
 * a terminal, a plain line every few seconds otherwise, so logs of scripted runs stay short.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets how much is done; `total` may be given late (0 = unknown: a count, no bar). */
  update(done: number, total?: number): void;
  /** Prints the final state and releases the terminal. */
  stop(): void;
}

const PLAIN_INTERVAL_MS = 5000;

export function startProgress(label: string, total: number, unit = 'events'): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format:
          total > 0
            ? `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {eta_formatted} left`
            : `${label}: {value} ${unit}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(total, 1), 0);
    return {
      update(done, newTotal) {
        if (newTotal !== undefined) bar.setTotal(Math.max(newTotal, 1));
        bar.update(done);
      },
      stop: () => bar.stop(),
    };
  }
  let last = Date.now();
  let done = 0;
  let max = total;
  const line = () => `${label}: ${max > 0 ? `${done}/${max}` : done} ${unit}\n`;
  return {
    update(value, newTotal) {
      done = value;
      if (newTotal !== undefined) max = newTotal;
      if (Date.now() - last >= PLAIN_INTERVAL_MS) {
        last = Date.now();
        process.stderr.write(line());
      }
    },
    stop() {
      process.stderr.write(line());
    },
  };
}
