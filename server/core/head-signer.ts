/**
 * Keeps every channel's head signed: at an interval when it moved, and on request. Every node
 * of a cluster, and every restart, signs with the same key (see `server/signing-key.ts` for
 * where it lives).
 */
import type { KeyObject } from 'node:crypto';
import type { ChannelHead, ChannelScope, Store } from '../store/store.js';
import { publicKeyInfo, signHead, type PublicKeyInfo, type SignedHead } from './chain-signer.js';

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

  readonly publicKey: PublicKeyInfo;
  private readonly privateKey: KeyObject;

  constructor(
    private readonly store: Store,
    key: { privateKey: KeyObject; publicKeyPem: string },
    private readonly options: HeadSignerOptions = {},
  ) {
    this.privateKey = key.privateKey;
    this.publicKey = publicKeyInfo(key.publicKeyPem);
    this.now = options.now ?? (() => new Date());
  }

  /** The most recent signature this node made, of any channel. */
  lastSigned(): SignedHead | undefined {
    let last: SignedHead | undefined;
    for (const head of this.latest.values()) if (!last || head.signedAt > last.signedAt) last = head;
    return last;
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
