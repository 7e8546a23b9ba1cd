/**
 * Verifying the hash chains of an export file or of a database, streaming, in constant
 * memory. The result names the first bad event (seq, id, channel, reason) or, when every
 * chain holds, each channel's head — what a signed head is compared with.
 */
import type { StoredEvent } from '../../shared/events.js';
import { derivedStateProblem } from '../core/derived-check.js';
import { eventContentProblem } from '../core/event-content.js';
import { ChainVerifier, type ChainProblem } from '../core/hash-chain.js';
import { logPages, type ExportFormat } from '../core/event-codec.js';
import type { Store } from '../store/store.js';
import { readEventFile } from './event-file.js';
import type { Progress } from './progress.js';

export interface ChannelTip {
  hash: string;
  createdAt: string;
  seq: number;
}

export type ChainReport =
  | { ok: true; count: number; lastSeq: number; heads: Map<string, ChannelTip> }
  | { ok: false; count: number; problem: ChainProblem; line?: number };

export function describeProblem(problem: ChainProblem, line?: number): string {
  const where = line === undefined ? '' : `, line ${line}`;
  return `event seq ${problem.seq} (id ${problem.id}, channel ${problem.channel}${where}): ${problem.reason}`;
}

/** The event's content as a chain problem, when the API would have refused it. */
export function contentProblem(event: StoredEvent): ChainProblem | null {
  const reason = eventContentProblem(event);
  return reason ? { seq: event.seq, id: event.id, channel: event.channel, reason } : null;
}

export async function verifyFile(
  file: string,
  format: ExportFormat,
  options: {
    contiguous: boolean;
    start?: { tips: Map<string, ChannelTip>; seq: number };
    progress?: Progress;
    /** Also refuse content the API would not have accepted (for import). */
    content?: boolean;
    /** Sees each event that verified, in order. */
    onEvent?: (event: StoredEvent) => void;
  },
): Promise<ChainReport> {
  const verifier = new ChainVerifier(options.contiguous, options.start?.tips, options.start?.seq ?? 0);
  let lastSeq = options.start?.seq ?? 0;
  for await (const { line, event } of readEventFile(file, format)) {
    const problem = verifier.check(event) ?? (options.content ? contentProblem(event) : null);
    if (problem) {
      options.progress?.update(verifier.count);
      return { ok: false, count: verifier.count, problem, line };
    }
    options.onEvent?.(event);
    lastSeq = event.seq;
    if (verifier.count % 1000 === 0) options.progress?.update(verifier.count);
  }
  options.progress?.update(verifier.count);
  return { ok: true, count: verifier.count, lastSeq, heads: verifier.heads() };
}

/**
 * The whole log of `store`; its recorded channel heads must match the chains' ends, and the
 * derived signals table must be exactly the fold of the log (see derived-check.ts).
 */
export async function verifyStore(
  store: Store,
  progress?: Progress,
  onEvent?: (event: StoredEvent) => void,
): Promise<ChainReport> {
  const upTo = await store.headSeq();
  progress?.update(0, upTo);
  const verifier = new ChainVerifier(true);
  let lastSeq = 0;
  let created = 0;
  for await (const page of logPages(store, { channels: 'all', upTo })) {
    for (const event of page) {
      const problem = verifier.check(event);
      if (problem) return { ok: false, count: verifier.count, problem };
      if (event.type === 'signal.created') created++;
      onEvent?.(event);
      lastSeq = event.seq;
    }
    progress?.update(lastSeq);
  }
  const heads = verifier.heads();
  if (lastSeq !== upTo) {
    return {
      ok: false,
      count: verifier.count,
      problem: {
        seq: upTo,
        id: '?',
        channel: '?',
        reason: `the log head says seq ${upTo} but the last event is seq ${lastSeq}: events are missing`,
      },
    };
  }
  for (const recorded of await store.channelHeads()) {
    const tip = heads.get(recorded.channel);
    // A head past upTo belongs to an append that committed while we read: not a problem.
    if (recorded.seq > upTo) continue;
    if (!tip || tip.hash !== recorded.hash || tip.seq !== recorded.seq) {
      return {
        ok: false,
        count: verifier.count,
        problem: {
          seq: recorded.seq,
          id: '?',
          channel: recorded.channel,
          reason: `the recorded head of channel ${recorded.channel} (seq ${recorded.seq}) is not the end of its chain (seq ${tip?.seq ?? 'none'})`,
        },
      };
    }
  }
  const derived = await derivedStateProblem(store, created, upTo);
  if (derived) return { ok: false, count: verifier.count, problem: derived };
  return { ok: true, count: verifier.count, lastSeq, heads };
}
