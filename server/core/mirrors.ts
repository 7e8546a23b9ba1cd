/**
 * Delayed release into lower tiers: a channel may mirror another after a delay ("free gets
 * VIP signals 24 hours later"). Releasing appends, once the delay has passed, a new event on
 * the mirror channel that names the original (`data.origin`: its channel, seq, id, hash and
 * time), so the log stays append-only and the mirror keeps a hash chain and statistics of its
 * own; subscribers of the mirror see when the original was published.
 *
 * Nothing about what is pending lives only in memory: where a mirror stands is read from the
 * log (the highest origin seq among the mirror channel's events), so a restart neither loses
 * nor doubles a release. Every node runs this; each release is an idempotent append keyed by
 * the original event's id, so two nodes releasing the same event make one event.
 */
import type { Logger } from 'pino';
import type { EventOrigin, SignalCreatedEvent, SignalUpdatedEvent, StoredEvent } from '../../shared/events.js';
import type { MirrorInput } from '../../shared/schemas.js';
import type { Bus, BusMessage } from '../bus/bus.js';
import type { MirrorRecord } from '../store/integrations.js';
import type { Store } from '../store/store.js';
import { AppError, badRequest, notFound } from './errors.js';
import type { Hub, LiveSink } from './hub.js';
import type { Publisher } from './policy.js';
import type { SignalService } from './signals.js';

/** How far a mirror has got: learned from its channel's events, kept up as events arrive. */
interface Progress {
  origin: string;
  /** Highest origin seq released (or passed over) into the mirror. */
  released: number;
  /** Original signal id → its release's signal id on the mirror, for the updates that follow. */
  signals: Map<string, string>;
  /** The first origin event the last round found not yet due: nothing is read again before it is. */
  next?: { seq: number; createdAtMs: number };
}

/** Counts a release found in the mirror's channel (made here, by another node, or before a start). */
function note(progress: Progress, event: StoredEvent): void {
  const origin = event.data.origin;
  if (!origin || origin.channel !== progress.origin) return;
  progress.released = Math.max(progress.released, origin.seq);
  if (event.type === 'signal.created') progress.signals.set(origin.signalId, event.signalId);
}

const PAGE = 200;

export class MirrorService implements LiveSink {
  private mirrors: MirrorRecord[] = [];
  private readonly progress = new Map<string, Progress>();
  private timer: NodeJS.Timeout | undefined;
  private removeSink: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | null = null;
  private reload = true;

  constructor(
    private readonly store: Store,
    private readonly hub: Hub,
    private readonly signals: SignalService,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly tickMs = 1000,
  ) {}

  start(): void {
    this.removeSink = this.hub.addSink(this);
    this.unsubscribe = this.bus.subscribe((message) => this.onBus(message));
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.removeSink?.();
    this.unsubscribe?.();
    await this.running;
  }

  list(): Promise<MirrorRecord[]> {
    return this.store.mirrors.list();
  }

  /** Makes `channel` receive `input.origin`'s events after the delay, from now on. */
  async configure(channel: string, input: MirrorInput): Promise<MirrorRecord> {
    if (!(await this.store.getChannel(channel))) throw notFound(`channel ${channel}`);
    if (!(await this.store.getChannel(input.origin))) {
      throw badRequest('unknown channel', { origin: `channel ${input.origin} does not exist` });
    }
    if (input.origin === channel) throw badRequest('a channel cannot mirror itself', { origin: 'is this channel' });
    const mirrors = await this.store.mirrors.list();
    for (let at: string | undefined = input.origin; at; at = mirrors.find((m) => m.channel === at)?.origin) {
      if (at === channel)
        throw badRequest('mirrors would go round in a circle', {
          origin: `${input.origin} already receives ${channel}'s events`,
        });
    }
    const record = await this.store.mirrors.put({ channel, ...input, fromSeq: this.hub.headSeq });
    await this.bus.publish({ kind: 'mirrors' });
    return record;
  }

  async remove(channel: string): Promise<void> {
    if (!(await this.store.mirrors.remove(channel))) throw notFound(`mirror of ${channel}`);
    await this.bus.publish({ kind: 'mirrors' });
  }

  private onBus(message: BusMessage): void {
    if (message.kind === 'mirrors' || message.kind === 'resync') this.reload = true;
  }

  /** Releases from other nodes count too: a node learns of them as they are delivered. */
  deliver(event: StoredEvent): void {
    const progress = this.progress.get(event.channel);
    if (progress) note(progress, event);
  }

  private tick(): Promise<void> {
    if (this.running) return this.running;
    const run = this.releaseDue();
    this.running = run;
    // Set after the call: a round with nothing to await has already ended by then.
    void run.finally(() => {
      if (this.running === run) this.running = null;
    });
    return run;
  }

  private async releaseDue(): Promise<void> {
    try {
      if (this.reload) {
        this.reload = false;
        this.mirrors = await this.store.mirrors.list();
        for (const [channel, p] of this.progress) {
          if (!this.mirrors.some((m) => m.channel === channel && m.origin === p.origin)) this.progress.delete(channel);
        }
      }
      for (const mirror of this.mirrors) await this.release(mirror);
    } catch (error) {
      this.log.warn({ err: error }, 'releasing mirrored events failed; retrying');
    }
  }

  /** Where `mirror` stands, read from its channel's events the first time. */
  private async progressOf(mirror: MirrorRecord): Promise<Progress> {
    const known = this.progress.get(mirror.channel);
    if (known) return known;
    const progress: Progress = { origin: mirror.origin, released: 0, signals: new Map() };
    for (let after = 0; ;) {
      await this.hub.backlog.turn();
      const page = await this.store.readEvents({
        after,
        upTo: this.hub.headSeq,
        limit: PAGE,
        channels: [mirror.channel],
      });
      for (const event of page) note(progress, event);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.seq;
    }
    this.progress.set(mirror.channel, progress);
    return progress;
  }

  /** Releases every origin event whose delay has passed, in seq order. */
  private async release(mirror: MirrorRecord): Promise<void> {
    const progress = await this.progressOf(mirror);
    const due = Date.now() - mirror.delaySeconds * 1000;
    const { next } = progress;
    if (next && next.seq > Math.max(mirror.fromSeq, progress.released) && next.createdAtMs > due) return;
    for (;;) {
      const after = Math.max(mirror.fromSeq, progress.released);
      const page = await this.hub.readAfter(after, PAGE, [mirror.origin]);
      for (const event of page) {
        // A channel's times never go back: the first event not yet due ends this round.
        const createdAtMs = Date.parse(event.createdAt);
        if (createdAtMs > due) {
          progress.next = { seq: event.seq, createdAtMs };
          return;
        }
        await this.releaseOne(mirror, progress, event);
        progress.released = Math.max(progress.released, event.seq);
      }
      if (page.length < PAGE) return;
    }
  }

  private async releaseOne(mirror: MirrorRecord, progress: Progress, event: StoredEvent): Promise<void> {
    const origin: EventOrigin = {
      channel: event.channel,
      seq: event.seq,
      id: event.id,
      signalId: event.signalId,
      hash: event.hash,
      createdAt: event.createdAt,
    };
    const publisher: Publisher = { author: `mirror:${mirror.channel}`, canPublishTo: (c) => c === mirror.channel };
    const idempotencyKey = `mirror:${event.id}`;
    try {
      if (event.type === 'signal.created') {
        const { origin: _, ...data } = (event as SignalCreatedEvent).data;
        const result = await this.signals.publish(
          publisher,
          { ...data, channel: mirror.channel, idempotencyKey },
          { origin },
        );
        progress.signals.set(event.signalId, result.event.signalId);
        return;
      }
      const target = progress.signals.get(event.signalId);
      // The original was published before the mirror began: its later life is not released either.
      if (!target) return;
      const { origin: _, ...data } = (event as SignalUpdatedEvent).data;
      await this.signals.update(publisher, target, { ...data, idempotencyKey }, { origin, releasing: true });
    } catch (error) {
      // What the original passed can only fail here if the mirror's own log disagrees; say so, and go on.
      if (error instanceof AppError && error.status < 500) {
        this.log.error({ err: error, mirror: mirror.channel, seq: event.seq }, 'a mirrored event was refused; skipped');
        return;
      }
      throw error;
    }
  }
}
