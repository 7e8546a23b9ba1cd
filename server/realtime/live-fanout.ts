/**
 * The live fan-out: takes each event to every member of its channel's audience (and every
 * member who sees all channels), one write per member of everything it has not had yet.
 *
 * A walk over the audiences runs in slices of a few milliseconds, so the event loop keeps
 * serving — a publish is acknowledged, a heartbeat answered — while tens of thousands of
 * sockets are written. An event that arrives during a walk joins it: members not yet
 * visited get it in the same write as the earlier ones, and the next walk takes it to the
 * members visited before it arrived. So when events come faster than one walk takes,
 * members get fewer, larger writes instead of a backlog that grows with every event.
 *
 * Each member keeps the seq it was written through; however walks overlap, a member is
 * written each event it may see once, in seq order, and nothing at or below the seq it
 * went live at (it had those from the replay).
 */
import type { StoredEvent } from '../../shared/events.js';

/**
 * A member is in the audience of a channel exactly when `channels` has it: whoever changes
 * the set (a grant, a revoke) calls `enter` or `exit` in the same turn, so a walk over a
 * channel's audience need not ask each member about that channel's events again.
 */
export interface FanoutMember {
  /** Every event up to this seq was written to the member, or was not for it. */
  sentThrough: number;
  /** The channels the member may see, asked when an event is written; null: every channel. */
  readonly channels: ReadonlySet<string> | null;
}

/** An event with its encoding, made once for every member. */
export interface Outgoing<P> {
  readonly event: StoredEvent;
  readonly payload: P;
}

export interface FanoutOptions<M, P> {
  encode(event: StoredEvent): P;
  /** Writes `batch` (ascending seq, at least one) to `member`. */
  write(member: M, batch: ReadonlyArray<Outgoing<P>>): void;
  /**
   * `write` threw for `member`: it has missed `batch` and should be dropped (a subscriber
   * resumes from its own position). The walk goes on with the others.
   */
  failed(member: M, error: unknown): void;
  /** Longest stretch of writing before other work gets a turn (default 5 ms). */
  sliceMs?: number;
  /** A walk wrote its batch to every member, `ms` after it began (metrics); called once per walk. */
  walked?(batch: ReadonlyArray<Outgoing<P>>, ms: number): void;
}

/** Members visited between looks at the clock. */
const CLOCK_EVERY = 64;

class Walk<M extends FanoutMember, P> {
  /** The events this walk carries, ascending seq; grows while it runs. */
  readonly batch: Array<Outgoing<P>>;
  /**
   * Each event of `batch` alone, made once: the members visited before an event joined need
   * only that one, and the walk should not build the same one-element batch for each.
   */
  readonly alone: Array<ReadonlyArray<Outgoing<P>>>;
  readonly startedAt = performance.now();
  private readonly channels = new Set<string>();
  /** The audiences to walk, each with its channel (null: the members who see every channel). */
  private readonly audiences: Array<{ channel: string | null; members: ReadonlySet<M> }> = [];
  private position = 0;
  /** Where the walk stopped in the current audience: a Set iterator follows joins and leaves. */
  private members: SetIterator<M> | undefined;

  constructor(
    batch: Array<Outgoing<P>>,
    everyone: ReadonlySet<M>,
    private readonly audienceOf: (channel: string) => ReadonlySet<M> | undefined,
  ) {
    this.batch = batch;
    this.alone = batch.map((item) => [item]);
    this.audiences.push({ channel: null, members: everyone });
    for (const { event } of batch) this.include(event.channel);
  }

  join(item: Outgoing<P>): void {
    this.batch.push(item);
    this.alone.push([item]);
    this.include(item.event.channel);
  }

  private include(channel: string): void {
    if (this.channels.has(channel)) return;
    this.channels.add(channel);
    const members = this.audienceOf(channel);
    if (members) this.audiences.push({ channel, members });
  }

  /**
   * Visits members, each with the channel of the audience it was found in, until all are
   * done (true) or `deadline` passed (false).
   */
  advance(visit: (member: M, channel: string | null) => void, deadline: number): boolean {
    let count = 0;
    while (this.position < this.audiences.length) {
      const { channel, members } = this.audiences[this.position]!;
      this.members ??= members.values();
      // Leaving the loop early keeps the iterator where it is (Set iterators have no `return`).
      for (const member of this.members) {
        visit(member, channel);
        if (++count % CLOCK_EVERY === 0 && performance.now() >= deadline) return false;
      }
      this.members = undefined;
      this.position++;
    }
    return true;
  }
}

export class LiveFanout<M extends FanoutMember, P> {
  /** Members who see every channel. */
  private readonly everyone = new Set<M>();
  private readonly audiences = new Map<string, Set<M>>();
  /** Events no walk has started with yet (some may be riding along in the current one). */
  private pending: Array<Outgoing<P>> = [];
  private walk: Walk<M, P> | undefined;
  private scheduled = false;
  private closed = false;
  private readonly sliceMs: number;

  constructor(private readonly options: FanoutOptions<M, P>) {
    this.sliceMs = options.sliceMs ?? 5;
  }

  /** Puts `member` in the audiences of its channels (or of every channel). */
  add(member: M): void {
    if (member.channels === null) this.everyone.add(member);
    else for (const channel of member.channels) this.enter(member, channel);
  }

  /** Takes `member` out of every audience it is in. */
  remove(member: M): void {
    if (member.channels === null) this.everyone.delete(member);
    else for (const channel of member.channels) this.exit(member, channel);
  }

  /** `member` was granted `channel` (its `channels` already has it). */
  enter(member: M, channel: string): void {
    let audience = this.audiences.get(channel);
    if (!audience) this.audiences.set(channel, (audience = new Set()));
    audience.add(member);
  }

  /** `member` lost `channel` (its `channels` no longer has it). */
  exit(member: M, channel: string): void {
    const audience = this.audiences.get(channel);
    if (audience?.delete(member) && audience.size === 0) this.audiences.delete(channel);
  }

  /** Events must come in ascending seq (the hub's order). */
  deliver(event: StoredEvent): void {
    if (this.closed) return;
    const item: Outgoing<P> = { event, payload: this.options.encode(event) };
    this.pending.push(item);
    if (this.walk) this.walk.join(item);
    else this.schedule();
  }

  close(): void {
    this.closed = true;
    this.pending = [];
    this.walk = undefined;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.step);
  }

  private readonly step = (): void => {
    this.scheduled = false;
    const deadline = performance.now() + this.sliceMs;
    try {
      for (let walk = this.walk ?? this.begin(); walk && !this.closed; walk = this.begin()) {
        this.walk = walk;
        if (!walk.advance((member, channel) => this.visit(member, channel, walk), deadline)) return;
        this.options.walked?.(walk.batch, performance.now() - walk.startedAt);
      }
      this.walk = undefined;
    } finally {
      // Out of time, or something threw: the walk goes on in the next turn either way.
      if (this.walk && !this.closed) this.schedule();
    }
  };

  private begin(): Walk<M, P> | undefined {
    if (this.pending.length === 0) return undefined;
    const batch = this.pending;
    this.pending = [];
    return new Walk(batch, this.everyone, (channel) => this.audiences.get(channel));
  }

  /** Writes `member`, found in the audience of `audience`, what it has not had of the walk's batch. */
  private visit(member: M, audience: string | null, { batch, alone }: Walk<M, P>): void {
    const through = member.sentThrough;
    const last = batch.length - 1;
    const lastSeq = batch[last]!.event.seq;
    if (through >= lastSeq) return;
    member.sentThrough = lastSeq;
    let first = last;
    while (first > 0 && batch[first - 1]!.event.seq > through) first--;
    if (first === last) {
      if (sees(member, audience, batch[last]!.event.channel)) this.write(member, alone[last]!);
      return;
    }
    const visible: Array<Outgoing<P>> = [];
    for (let i = first; i <= last; i++) if (sees(member, audience, batch[i]!.event.channel)) visible.push(batch[i]!);
    if (visible.length > 0) this.write(member, visible);
  }

  private write(member: M, batch: ReadonlyArray<Outgoing<P>>): void {
    try {
      this.options.write(member, batch);
    } catch (error) {
      this.options.failed(member, error);
    }
  }
}

/** Whether `member`, found in the audience of `audience` (null: of every channel), may see `channel`. */
function sees(member: FanoutMember, audience: string | null, channel: string): boolean {
  return channel === audience || member.channels === null || member.channels.has(channel);
}
