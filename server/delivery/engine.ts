/**
 * The delivery engine: every durable destination is a cursor over the log, and this node
 * works the ones whose lease it holds (`DestinationStore.claim`, renewed every few seconds;
 * a node that dies lets its leases expire and another node takes them over). One engine for
 * every kind; what differs per kind is its adapter.
 *
 * Guarantees, for each destination:
 * - events reach it in seq order, each until the far side accepted it (at least once on the
 *   wire: a crash between the far side's answer and the cursor's write sends that event again,
 *   which a receiver recognises by its id);
 * - its cursor is stored, only forward, and only by the node holding its lease — so a crash,
 *   a restart or an outage of the far side loses nothing;
 * - it receives only its channels (a push device: only those its owner is still granted, and
 *   nothing once the owner is disabled or the device is removed).
 *
 * Cursor moves and attempt records are written in batches, one transaction per event-loop
 * turn, so a hundred destinations following one event cost one commit, not a hundred.
 */
import type { Logger } from 'pino';
import type { SignalView, StoredEvent } from '../../shared/events.js';
import { initialView } from '../../shared/signal-state.js';
import type { Bus, BusMessage } from '../bus/bus.js';
import { Gate } from '../core/gate.js';
import type { Hub, LiveSink } from '../core/hub.js';
import type { DeliveryStatePatch, DestinationRecord, DeliveryAttempt } from '../store/integrations.js';
import type { Store } from '../store/store.js';
import type { AdapterTarget, DestinationAdapter, SendContext, SendResult } from './adapter.js';
import { adapterFor } from './adapters/index.js';
import { DestinationWorker, type WorkerHost } from './destination-worker.js';
import { Pacer } from './pacer.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import type { Metrics } from '../metrics.js';

export interface DeliveryEngineOptions {
  /** This node's name in leases. */
  nodeId: string;
  store: Store;
  hub: Hub;
  bus: Bus;
  logger: Logger;
  /** What adapters need to send (HTTP client, VAPID keys, URLs, timeout). */
  context: SendContext;
  leaseMs?: number;
  renewMs?: number;
  /** Sends in flight at once on this node, over every destination. */
  concurrency?: number;
  retry?: RetryPolicy;
  metrics?: Metrics;
}

/** Attempts kept per destination in its delivery log. */
/** Delivery attempts kept per destination; older ones are trimmed by the runtime's housekeeping. */
export const ATTEMPTS_KEPT = 1000;
/** Updates whose signal is kept read for the destinations sending them. */
const SIGNALS_KEPT = 256;

export class DeliveryEngine implements LiveSink, WorkerHost {
  private readonly workers = new Map<string, DestinationWorker>();
  private readonly store: Store;
  private readonly hub: Hub;
  private readonly log: Logger;
  private readonly sends: Gate;
  private readonly pacer = new Pacer();
  private readonly leaseMs: number;
  private readonly renewMs: number;
  readonly retry: RetryPolicy;
  private timer: NodeJS.Timeout | undefined;
  private removeSink: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private claiming: Promise<void> | null = null;
  private reclaim = false;
  private stopped = false;
  private pending = new Map<string, { worker: DestinationWorker; seq: number; patch: DeliveryStatePatch }>();
  private attempts: Array<Omit<DeliveryAttempt, 'id'>> = [];
  private flushing: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  /** Each update's signal, read once for every destination that sends it. */
  private readonly signals = new Map<number, Promise<SignalView | undefined>>();

  constructor(private readonly options: DeliveryEngineOptions) {
    this.store = options.store;
    this.hub = options.hub;
    this.log = options.logger.child({ component: 'delivery' });
    this.sends = new Gate('destination sends', options.concurrency ?? 64, Number.MAX_SAFE_INTEGER);
    this.leaseMs = options.leaseMs ?? 30_000;
    this.renewMs = options.renewMs ?? 10_000;
    this.retry = options.retry ?? DEFAULT_RETRY;
    options.metrics?.gauge(
      'signaldesk_destinations',
      'Outbound destinations this node delivers to, by kind and state',
      ['kind', 'state'],
      () => this.countByKindAndState(),
    );
    options.metrics?.gauge(
      'signaldesk_destination_lag_seconds',
      'The longest any destination of this node has been waiting to deliver an event, by kind (0 when caught up)',
      ['kind'],
      () => this.lagByKind(),
    );
  }

  private countByKindAndState(): Array<[{ kind: string; state: string }, number]> {
    const counts = new Map<string, number>();
    for (const { record } of this.workers.values()) {
      const key = `${record.kind}\u0000${record.state}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].map(([key, n]) => {
      const [kind, state] = key.split('\u0000') as [string, string];
      return [{ kind, state }, n];
    });
  }

  private lagByKind(): Array<[{ kind: string }, number]> {
    const now = Date.now();
    const lag = new Map<string, number>();
    for (const worker of this.workers.values()) {
      const waiting = worker.pendingSince === null ? 0 : Math.max(0, now - worker.pendingSince) / 1000;
      lag.set(worker.record.kind, Math.max(lag.get(worker.record.kind) ?? 0, waiting));
    }
    return [...lag].map(([kind, seconds]) => [{ kind }, seconds]);
  }

  get context(): SendContext {
    return this.options.context;
  }

  async start(): Promise<void> {
    this.removeSink = this.hub.addSink(this);
    this.unsubscribe = this.options.bus.subscribe((message) => this.onBus(message));
    await this.claim();
    this.timer = setInterval(() => void this.claim(), this.renewMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.removeSink?.();
    this.unsubscribe?.();
    await this.claiming;
    const ids = [...this.workers.keys()];
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
    await this.flush();
    await this.store.destinations.release(this.options.nodeId, ids).catch(() => {});
  }

  /** Live events wake the destinations that may receive them. */
  deliver(event: StoredEvent): void {
    for (const worker of this.workers.values()) if (worker.channels.has(event.channel)) worker.wake();
  }

  /** Sends a test message to a destination now, outside the log. */
  async testSend(record: DestinationRecord): Promise<SendResult> {
    const { id, name, config, secret } = record;
    return this.adapter(record.kind).sendTest(
      { id, name, config, secrets: { current: secret, previous: null } },
      this.context,
    );
  }

  private onBus(message: BusMessage): void {
    if (message.kind === 'destinations' || message.kind === 'resync') void this.claim();
    else if (message.kind === 'access' || (message.kind === 'disconnect' && message.userId)) {
      const userId = message.userId;
      const owners = new Map<string, Promise<ReadonlySet<string> | 'all'>>();
      for (const worker of this.workers.values()) {
        if (worker.record.ownerId !== userId) continue;
        void this.ownerChannels(worker.record, owners).then(
          (c) => worker.setChannels(c),
          (err: unknown) => this.log.warn({ err, destination: worker.record.id }, 're-reading a device owner failed'),
        );
      }
    }
  }

  /** Takes and renews leases, starts workers for new ones and stops those it no longer holds. */
  private claim(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.claiming) {
      this.reclaim = true;
      return this.claiming;
    }
    const run = this.claimRounds();
    this.claiming = run;
    void run.finally(() => {
      if (this.claiming === run) this.claiming = null;
    });
    return run;
  }

  private async claimRounds(): Promise<void> {
    try {
      do {
        this.reclaim = false;
        const records = await this.store.destinations.claim(this.options.nodeId, Date.now(), this.leaseMs);
        await this.apply(records);
      } while (this.reclaim && !this.stopped);
    } catch (error) {
      this.log.warn({ err: error }, 'claiming destinations failed; retrying at the next renewal');
    }
  }

  private async apply(records: readonly DestinationRecord[]): Promise<void> {
    const held = new Set(records.map((r) => r.id));
    for (const [id, worker] of this.workers) {
      if (held.has(id)) continue;
      this.workers.delete(id);
      void worker.stop();
    }
    // A person's devices share one look-up of what that person may see, per round.
    const owners = new Map<string, Promise<ReadonlySet<string> | 'all'>>();
    for (const record of records) {
      const channels = await this.ownerChannels(record, owners);
      const worker = this.workers.get(record.id);
      if (worker) {
        worker.refresh(record);
        worker.setChannels(channels);
      } else if (!this.stopped) {
        this.workers.set(record.id, new DestinationWorker(record, channels, this));
      }
    }
  }

  /** The channels a destination receives: its own list, within its owner's grants for a device. */
  private async ownerChannels(
    record: DestinationRecord,
    owners: Map<string, Promise<ReadonlySet<string> | 'all'>>,
  ): Promise<ReadonlySet<string>> {
    const { ownerId } = record;
    if (!ownerId) return new Set(record.channels);
    let scope = owners.get(ownerId);
    if (!scope) owners.set(ownerId, (scope = this.ownerScope(ownerId)));
    const allowed = await scope;
    return new Set(allowed === 'all' ? record.channels : record.channels.filter((c) => allowed.has(c)));
  }

  /** What a person may see: every channel for an admin, their grants otherwise, nothing once disabled. */
  private async ownerScope(userId: string): Promise<ReadonlySet<string> | 'all'> {
    const user = await this.store.getUser(userId);
    if (!user || user.disabledAt) return new Set();
    if (user.role === 'admin') return 'all';
    return new Set(await this.store.channelsOf(userId));
  }

  // ---- WorkerHost

  adapter(kind: DestinationRecord['kind']): DestinationAdapter<unknown> {
    return adapterFor(kind);
  }

  read(after: number, limit: number, channels: readonly string[]): Promise<StoredEvent[]> {
    return this.hub.readAfter(after, limit, channels);
  }

  head(): number {
    return this.hub.headSeq;
  }

  async signalOf(event: StoredEvent): Promise<SignalView | undefined> {
    if (event.type === 'signal.created') return initialView(event);
    let view = this.signals.get(event.seq);
    if (!view) {
      view = this.store.getSignal(event.signalId);
      this.signals.set(event.seq, view);
      if (this.signals.size > SIGNALS_KEPT) this.signals.delete(this.signals.keys().next().value!);
      // A failed read is not kept: the next destination reads again.
      view.catch(() => this.signals.delete(event.seq));
    }
    return view;
  }

  async send(
    worker: DestinationWorker,
    target: AdapterTarget<unknown>,
    event: StoredEvent,
    signal: SignalView,
  ): Promise<SendResult> {
    const adapter = this.adapter(worker.record.kind);
    const pace = adapter.pace?.(target);
    if (pace) await this.pacer.take(pace);
    return this.sends.run(() => adapter.send(target, { event, signal }, this.context));
  }

  advance(worker: DestinationWorker, seq: number, patch: DeliveryStatePatch): void {
    const queued = this.pending.get(worker.id);
    this.pending.set(worker.id, { worker, seq, patch: { ...queued?.patch, ...patch } });
    this.scheduleFlush();
  }

  async recordState(worker: DestinationWorker, patch: DeliveryStatePatch): Promise<void> {
    await this.flush();
    const held = await this.store.destinations.recordState(this.options.nodeId, worker.id, patch);
    if (!held) this.lost([worker.id]);
  }

  logAttempt(worker: DestinationWorker, event: StoredEvent, result: SendResult, durationMs: number): void {
    this.options.metrics?.destinationAttempts.inc({ kind: worker.record.kind, result: result.kind });
    this.attempts.push({
      destinationId: worker.id,
      seq: event.seq,
      eventId: event.id,
      attempt: worker.record.attempts + 1,
      at: new Date().toISOString(),
      status: result.status,
      outcome: result.kind,
      error: result.kind === 'delivered' ? null : result.error,
      durationMs,
    });
    this.scheduleFlush();
  }

  async gone(worker: DestinationWorker, error: string): Promise<void> {
    this.workers.delete(worker.id);
    this.log.info({ destination: worker.id, kind: worker.record.kind, reason: error }, 'destination is gone; removed');
    await this.flush();
    await this.store.destinations.remove(worker.id);
  }

  onError(error: unknown, worker: DestinationWorker): void {
    this.log.warn({ err: error, destination: worker.id }, 'delivery loop failed; retrying');
  }

  // ---- batched writes

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  /** Writes the queued cursor moves and attempts, one batch at a time, in order. */
  private flush(): Promise<void> {
    const cursors = [...this.pending.values()];
    const attempts = this.attempts;
    this.pending = new Map();
    this.attempts = [];
    if (cursors.length === 0 && attempts.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      try {
        await this.store.destinations.logAttempts(attempts);
        const lost = await this.store.destinations.advance(
          this.options.nodeId,
          cursors.map(({ worker, seq, patch }) => ({ id: worker.id, seq, ...patch })),
        );
        this.lost(lost);
      } catch (error) {
        // The cursors stay where they were stored: those events are sent again, as after a crash.
        this.log.warn({ err: error }, 'writing delivery positions failed');
      }
    });
    return this.flushing;
  }

  /** Another node holds these now: stop working them here. */
  private lost(ids: readonly string[]): void {
    for (const id of ids) {
      const worker = this.workers.get(id);
      if (!worker) continue;
      this.workers.delete(id);
      void worker.stop();
      this.log.info({ destination: id }, 'lease lost; another node delivers it now');
    }
  }
}
