/**
 * The per-channel hash chain. Each event's hash covers its predecessor's hash, so removing,
 * altering, reordering or back-dating any event breaks every hash after it.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../shared/canonical-json.js';
import { GENESIS_HASH, hashedPart, type StoredEvent } from '../../shared/events.js';

export function eventHash(event: Omit<StoredEvent, 'hash'>): string {
  return createHash('sha256')
    .update(event.prevHash)
    .update(canonicalJson(hashedPart(event)))
    .digest('hex');
}

export interface ChainProblem {
  seq: number;
  id: string;
  channel: string;
  reason: string;
}

interface ChannelTip {
  hash: string;
  createdAt: string;
  seq: number;
}

/**
 * Checks events fed in ascending seq order. `expectContiguous` also demands a gap-free seq
 * (true for a whole log or export; false for a subscriber's filtered view).
 */
export class ChainVerifier {
  private readonly tips = new Map<string, ChannelTip>();
  private lastSeq = 0;
  count = 0;

  constructor(
    private readonly expectContiguous: boolean,
    startTips?: Iterable<[string, ChannelTip]>,
    startSeq = 0,
  ) {
    if (startTips) for (const [channel, tip] of startTips) this.tips.set(channel, tip);
    this.lastSeq = startSeq;
  }

  /** Returns the first problem with `event`, or null when it extends its chain correctly. */
  check(event: StoredEvent): ChainProblem | null {
    const problem = (reason: string): ChainProblem => ({
      seq: event.seq,
      id: event.id,
      channel: event.channel,
      reason,
    });
    this.count++;
    if (!Number.isSafeInteger(event.seq) || event.seq <= this.lastSeq) {
      return problem(`seq ${event.seq} does not follow ${this.lastSeq}`);
    }
    if (this.expectContiguous && event.seq !== this.lastSeq + 1) {
      return problem(`seq ${event.seq} follows ${this.lastSeq}: ${event.seq - this.lastSeq - 1} event(s) missing`);
    }
    const tip = this.tips.get(event.channel);
    const expectedPrev = tip?.hash ?? GENESIS_HASH;
    if (event.prevHash !== expectedPrev) {
      return problem(
        tip
          ? `prevHash does not match the previous event of channel ${event.channel} (seq ${tip.seq}): an event is missing, reordered or altered`
          : `prevHash should be the genesis hash for the first event of channel ${event.channel}`,
      );
    }
    if (tip && event.createdAt < tip.createdAt) {
      return problem(`createdAt ${event.createdAt} is earlier than the previous event's ${tip.createdAt}: back-dated`);
    }
    if (Number.isNaN(Date.parse(event.createdAt))) return problem('createdAt is not a valid time');
    const { hash, ...rest } = event;
    if (eventHash(rest) !== hash) return problem('hash does not match the event content: altered');
    this.tips.set(event.channel, { hash, createdAt: event.createdAt, seq: event.seq });
    this.lastSeq = event.seq;
    return null;
  }

  heads(): Map<string, ChannelTip> {
    return new Map(this.tips);
  }
}
