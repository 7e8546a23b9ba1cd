/**
 * Waiting for a slow reader, without waiting for ever or leaking listeners: a stream whose
 * buffer made no progress for `stallMs` is destroyed (its client resumes from its position,
 * as after any disconnect), and every listener added for the wait is removed once it ends.
 */
import type { Writable } from 'node:stream';

export type DrainOutcome = 'drained' | 'closed' | 'stalled';

export function waitForDrain(stream: Writable, stallMs: number): Promise<DrainOutcome> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve('closed');
  if (!stream.writableNeedDrain) return Promise.resolve('drained');
  return new Promise((resolve) => {
    const finish = (outcome: DrainOutcome) => {
      clearTimeout(timer);
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      resolve(outcome);
    };
    const onDrain = () => finish('drained');
    const onClose = () => finish('closed');
    const timer = setTimeout(() => {
      stream.destroy();
      finish('stalled');
    }, stallMs);
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}
