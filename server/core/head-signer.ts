/**
 * Keeps every channel's head signed: at an interval when it moved, and on request. The key
 * lives in the store so every node of a cluster, and every restart, signs with the same one.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import type { ChannelHead, ChannelScope, Store } from '../store/store.js';
import {
  generateSigningKey,
  publicKeyInfo,
  signHead,
  SIGNING_ALGORITHM,
  type PublicKeyInfo,
  type SignedHead,
} from './chain-signer.js';

export interface HeadSignerOptions {
  /** How often to sign the heads that moved; 0 signs on request only. */
  intervalMs?: number;
  now?: () => Date;
  onError?: (error: unknown) => void;
}

/**
 * Guarantees: a signed head it returns is the channel's head as committed when it was
 * signed (it may be ahead of what this node has delivered so far), and it is re-signed
 * whenever the head moved since the last signature, so a head is never older than the
 * last interval or request.
 */
export class HeadSigner {
  private readonly latest = new Map<string, SignedHead>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => Date;

  private constructor(
    private readonly store: Store,
    private readonly privateKey: KeyObject,
    readonly publicKey: PublicKeyInfo,
    private readonly options: HeadSignerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Loads the store's active key, creating one the first time. */
  static async open(store: Store, options: HeadSignerOptions = {}): Promise<HeadSigner> {
    let record = await store.signingKey();
    if (!record) {
      const pair = generateSigningKey();
      await store.addSigningKey({
        id: uuidv7(),
        algorithm: SIGNING_ALGORITHM,
        publicKey: pair.publicKeyPem,
        privateKey: pair.privateKeyPem,
        createdAt: new Date().toISOString(),
      });
      // Another node may have added one at the same moment: the oldest wins everywhere.
      record = await store.signingKey();
      if (!record) throw new Error('the signing key just stored cannot be read back');
    }
    const privateKey = createPrivateKey(record.privateKey);
    return new HeadSigner(store, privateKey, publicKeyInfo(record.publicKey), options);
  }

  start(): void {
    const { intervalMs = 60_000 } = this.options;
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.signMoved('all').catch((error: unknown) => this.options.onError?.(error));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The signed heads of the channels in `scope`, signing now those that moved. */
  async signMoved(scope: ChannelScope): Promise<SignedHead[]> {
    const heads = await this.store.channelHeads();
    const visible = scope === 'all' ? heads : heads.filter((h) => scope.includes(h.channel));
    return visible.map((head) => this.signedHeadOf(head));
  }

  private signedHeadOf(head: ChannelHead): SignedHead {
    const known = this.latest.get(head.channel);
    if (known && known.seq === head.seq && known.hash === head.hash) return known;
    const signed = signHead(head, this.privateKey, this.now());
    this.latest.set(head.channel, signed);
    return signed;
  }
}
