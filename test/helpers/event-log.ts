/**
 * Hand-built logs for pure tests: real, correctly hashed events written out event by event,
 * without a database, so a test can state every price and time it depends on.
 */
import { eventHash } from '../../server/core/hash-chain.js';
import { GENESIS_HASH, type SignalData, type StoredEvent, type UpdateData } from '../../shared/events.js';

export class EventLog {
  readonly events: StoredEvent[] = [];
  private readonly tips = new Map<string, string>();
  private readonly channelOf = new Map<string, string>();

  /** Appends a `signal.created` event and returns the signal id. */
  create(channel: string, data: SignalData, createdAt: string): string {
    const seq = this.events.length + 1;
    const id = `sig-${seq}`;
    this.channelOf.set(id, channel);
    this.push({ seq, id, type: 'signal.created', channel, signalId: id, createdAt, data });
    return id;
  }

  update(signalId: string, data: UpdateData, createdAt: string): StoredEvent {
    const channel = this.channelOf.get(signalId);
    if (!channel) throw new Error(`unknown signal ${signalId}`);
    const seq = this.events.length + 1;
    return this.push({ seq, id: `evt-${seq}`, type: 'signal.updated', channel, signalId, createdAt, data });
  }

  private push(base: Omit<StoredEvent, 'hash' | 'prevHash' | 'author' | 'data'> & { data: unknown }): StoredEvent {
    const draft = {
      ...base,
      author: 'admin-1',
      prevHash: this.tips.get(base.channel) ?? GENESIS_HASH,
    } as Omit<StoredEvent, 'hash'>;
    const event = { ...draft, hash: eventHash(draft) } as StoredEvent;
    this.tips.set(event.channel, event.hash);
    this.events.push(event);
    return event;
  }
}

/**
 * Recomputes every hash after a change, as someone rewriting history would, so the
 * result is internally consistent: only an earlier, independently kept head can tell.
 */
export function rehash(events: readonly StoredEvent[]): StoredEvent[] {
  const tips = new Map<string, string>();
  return events.map((event) => {
    const { hash: _old, ...rest } = event;
    const draft = { ...rest, prevHash: tips.get(event.channel) ?? GENESIS_HASH } as Omit<StoredEvent, 'hash'>;
    const next = { ...draft, hash: eventHash(draft) } as StoredEvent;
    tips.set(next.channel, next.hash);
    return next;
  });
}
