/**
 * The hash chain, checked in the browser with SubtleCrypto: the same rules as the server's
 * `ChainVerifier` (prevHash links, no back-dating, hash = sha256(prevHash + canonical JSON)),
 * so a subscriber does not have to trust the server's word that its history is intact.
 * Also checks the server's Ed25519-signed heads: a channel matches when the event at the
 * signed seq carries the signed hash.
 */
import { canonicalJson } from '../../../shared/canonical-json.js';
import { GENESIS_HASH, hashedPart, type StoredEvent } from '../../../shared/events.js';

export interface SignedHeadInfo {
  channel: string;
  seq: number;
  hash: string;
  createdAt: string;
  signedAt: string;
  signature: string;
}

export interface ChainProblemInfo {
  seq: number;
  id: string;
  reason: string;
}

/**
 * One channel as far as this browser has checked it. `broken` is final: the first bad
 * event is kept and nothing after it is trusted.
 */
export interface ChannelChain {
  channel: string;
  state: 'verified' | 'broken';
  /** Events checked so far. */
  count: number;
  /** seq and hash of the newest good event. */
  seq: number;
  hash: string;
  problem?: ChainProblemInfo;
  /**
   * The server's signed head: `matches` once the event at its seq carried its hash,
   * `pending` until that event arrives, `invalid` when its signature does not verify.
   */
  signed?: { seq: number; signedAt: string; state: 'matches' | 'pending' | 'invalid' };
}

const encoder = new TextEncoder();

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** sha256(prevHash + canonicalJson(hashed part)), hex: what the event's `hash` must be. */
export async function eventHashInBrowser(event: StoredEvent): Promise<string> {
  const text = event.prevHash + canonicalJson(hashedPart(event));
  return hex(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/** Whether `head` is signed by the Ed25519 key `rawPublicKey` (base64 of its 32 bytes). */
export async function signedHeadVerifies(head: SignedHeadInfo, rawPublicKey: string): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey('raw', fromBase64(rawPublicKey), { name: 'Ed25519' }, false, ['verify']);
    const { channel, seq, hash, createdAt, signedAt } = head;
    const payload = encoder.encode(canonicalJson({ channel, seq, hash, createdAt, signedAt }));
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, fromBase64(head.signature), payload);
  } catch {
    return false;
  }
}

interface Tip {
  chain: ChannelChain;
  createdAt: string;
  expected?: { seq: number; hash: string };
}

/**
 * Feeds events in ascending seq (a subscriber's view: other channels leave gaps) and keeps
 * each channel's state. Feeding is serialised, so events may be handed over as they come.
 */
export class ChainWatch {
  private readonly tips = new Map<string, Tip>();
  private lastSeq = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<() => void>();
  private snapshot: ChannelChain[] = [];

  /** Expect `head` (whose signature was checked: `valid`) on its channel. */
  expect(head: SignedHeadInfo, valid: boolean): void {
    const tip = this.tipOf(head.channel);
    if (!valid) {
      tip.chain = { ...tip.chain, signed: { seq: head.seq, signedAt: head.signedAt, state: 'invalid' } };
    } else if (tip.chain.seq >= head.seq) {
      // Hashes of checked events are not kept, so a head must be expected before its event is fed.
      throw new Error(`seq ${head.seq} of ${head.channel} was already checked; expect heads before feeding`);
    } else {
      tip.expected = { seq: head.seq, hash: head.hash };
      tip.chain = { ...tip.chain, signed: { seq: head.seq, signedAt: head.signedAt, state: 'pending' } };
    }
    this.publish();
  }

  feed(events: readonly StoredEvent[]): Promise<void> {
    this.queue = this.queue.then(async () => {
      for (const event of events) await this.check(event);
      this.publish();
    });
    return this.queue;
  }

  /** The highest seq fed so far. */
  get headSeq(): number {
    return this.lastSeq;
  }

  channels(): ChannelChain[] {
    return this.snapshot;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private tipOf(channel: string): Tip {
    let tip = this.tips.get(channel);
    if (!tip) {
      tip = { chain: { channel, state: 'verified', count: 0, seq: 0, hash: GENESIS_HASH }, createdAt: '' };
      this.tips.set(channel, tip);
    }
    return tip;
  }

  private async check(event: StoredEvent): Promise<void> {
    // A resumed stream may repeat what a page already brought.
    if (event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    const tip = this.tipOf(event.channel);
    if (tip.chain.state === 'broken') return;
    const fail = (reason: string) => {
      tip.chain = { ...tip.chain, state: 'broken', problem: { seq: event.seq, id: event.id, reason } };
    };
    if (event.prevHash !== tip.chain.hash) {
      return fail(
        tip.chain.count === 0
          ? 'the first event of the channel does not start from the genesis hash: earlier events are missing'
          : `prevHash does not match the previous event (seq ${tip.chain.seq}): an event is missing, reordered or altered`,
      );
    }
    if (tip.createdAt && event.createdAt < tip.createdAt) {
      return fail(`created ${event.createdAt}, before the previous event (${tip.createdAt}): back-dated`);
    }
    if ((await eventHashInBrowser(event)) !== event.hash) return fail('the hash does not match the content: altered');
    tip.createdAt = event.createdAt;
    tip.chain = { ...tip.chain, count: tip.chain.count + 1, seq: event.seq, hash: event.hash };
    const { expected } = tip;
    if (expected && event.seq >= expected.seq) {
      tip.expected = undefined;
      const signed = tip.chain.signed && { ...tip.chain.signed };
      if (event.seq === expected.seq && event.hash === expected.hash && signed) {
        tip.chain = { ...tip.chain, signed: { ...signed, state: 'matches' } };
      } else {
        fail(`the server signed seq ${expected.seq} with another hash: history changed since it was signed`);
      }
    }
  }

  private publish(): void {
    this.snapshot = [...this.tips.values()]
      .map((tip) => tip.chain)
      .sort((a, b) => (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
    for (const listener of this.listeners) listener();
  }
}
