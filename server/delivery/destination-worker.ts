/**
 * One destination's delivery loop, run by the node that holds its lease: read the events
 * after its cursor that it may receive, send them one at a time in seq order, move the
 * cursor past each one the far side accepted, and on a failure wait (the retry schedule, or
 * what the far side asked for) and try the same event again. Nothing is skipped: a far side
 * that is down gets its backlog in order once it is back; after a day of failures the
 * destination is paused, and resuming it carries on from the same event.
 */
import type { SignalView, StoredEvent } from '../../shared/events.js';
import type { DeliveryStatePatch, DestinationRecord } from '../store/integrations.js';
import type { AdapterTarget, DestinationAdapter, SendResult } from './adapter.js';
import { retryDelay } from './retry.js';

/** What a worker needs from its engine. */
export interface WorkerHost {
  adapter(kind: DestinationRecord['kind']): DestinationAdapter<unknown>;
  /** Events after `after` in `channels`, up to what this node delivered, at most `limit`. */
  read(after: number, limit: number, channels: readonly string[]): Promise<StoredEvent[]>;
  /** The node's live head: nothing past it can be read yet. */
  head(): number;
  signalOf(event: StoredEvent): Promise<SignalView | undefined>;
  /** Sends through the node-wide bound on sends in flight, keeping the destination's pace. */
  send(
    worker: DestinationWorker,
    target: AdapterTarget<unknown>,
    event: StoredEvent,
    signal: SignalView,
  ): Promise<SendResult>;
  /** Queues the cursor move (and state) for the next batched write. */
  advance(worker: DestinationWorker, seq: number, patch: DeliveryStatePatch): void;
  recordState(worker: DestinationWorker, patch: DeliveryStatePatch): Promise<void>;
  logAttempt(worker: DestinationWorker, event: StoredEvent, result: SendResult, durationMs: number): void;
  /** The far side said the destination no longer exists. */
  gone(worker: DestinationWorker, error: string): Promise<void>;
  retry: { scale: number; pauseAfterMs: number };
  onError(error: unknown, worker: DestinationWorker): void;
}

const PAGE = 50;

export class DestinationWorker {
  private stopped = false;
  private wakeUp: (() => void) | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly done: Promise<void>;
  /** Channels it may receive now (for a push device: its choice within its owner's grants). */
  channels: ReadonlySet<string>;
  /** When the event it is trying to deliver was appended (epoch ms); null while caught up. */
  pendingSince: number | null = null;

  constructor(
    public record: DestinationRecord,
    channels: ReadonlySet<string>,
    private readonly host: WorkerHost,
  ) {
    this.channels = channels;
    this.done = this.run();
  }

  get id(): string {
    return this.record.id;
  }

  /** New settings read from the store; the cursor never goes back. */
  refresh(record: DestinationRecord): void {
    const deliveredSeq = Math.max(this.record.deliveredSeq, record.deliveredSeq);
    this.record = { ...record, deliveredSeq };
    this.wake();
  }

  setChannels(channels: ReadonlySet<string>): void {
    this.channels = channels;
    this.wake();
  }

  wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = null;
    clearTimeout(this.timer);
    wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.done;
  }

  /** Sleeps until woken, or for `ms` at most. */
  private sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      if (ms !== undefined) this.timer = setTimeout(() => this.wake(), Math.max(0, ms));
    });
  }

  private target(): AdapterTarget<unknown> {
    const { id, name, config, secret, previousSecret, previousSecretUntil } = this.record;
    const previousValid = previousSecret && previousSecretUntil && Date.parse(previousSecretUntil) > Date.now();
    return { id, name, config, secrets: { current: secret, previous: previousValid ? previousSecret : null } };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.step();
      } catch (error) {
        this.host.onError(error, this);
        if (!this.stopped) await this.sleep(1000);
      }
    }
  }

  /** One pass: wait if it should, else send what is pending until a failure or nothing is left. */
  private async step(): Promise<void> {
    const { record } = this;
    if (!record.enabled || record.state === 'paused') return this.sleep();
    const wait = (record.nextAttemptAt ?? 0) - Date.now();
    if (wait > 0) return this.sleep(wait);
    const head = this.host.head();
    const events = await this.host.read(record.deliveredSeq, PAGE, [...this.channels]);
    if (events.length === 0) {
      this.pendingSince = null;
      // Nothing here for this destination up to the head: the cursor may skip the others' events.
      if (head > record.deliveredSeq) this.moveCursor(head, {});
      return this.sleep();
    }
    for (const event of events) {
      if (this.stopped) return;
      if (!(await this.deliver(event))) return;
    }
  }

  private moveCursor(seq: number, patch: DeliveryStatePatch): void {
    this.record = { ...this.record, ...patch, deliveredSeq: Math.max(this.record.deliveredSeq, seq) };
    this.host.advance(this, seq, patch);
  }

  /** Sends one event; true when the cursor moved past it. */
  private async deliver(event: StoredEvent): Promise<boolean> {
    this.pendingSince = Date.parse(event.createdAt);
    const signal = await this.host.signalOf(event);
    if (!signal) {
      // Only a broken log has an event without its signal; nothing can be sent for it.
      this.moveCursor(event.seq, {});
      return true;
    }
    const started = performance.now();
    const result = await this.host.send(this, this.target(), event, signal);
    this.host.logAttempt(this, event, result, performance.now() - started);
    if (result.kind === 'delivered') {
      const now = new Date().toISOString();
      this.moveCursor(event.seq, {
        state: 'active',
        attempts: 0,
        failingSince: null,
        nextAttemptAt: null,
        lastStatus: result.status,
        lastError: null,
        lastSuccessAt: now,
      });
      if (result.waitMs && result.waitMs > 0) await this.sleep(result.waitMs);
      return true;
    }
    if (result.kind === 'gone') {
      this.stopped = true;
      await this.host.gone(this, result.error);
      return false;
    }
    await this.failed(result);
    return false;
  }

  private async failed(result: Extract<SendResult, { kind: 'retry' }>): Promise<void> {
    const now = Date.now();
    const attempts = this.record.attempts + 1;
    const failingSince = this.record.failingSince ?? new Date(now).toISOString();
    const paused = now - Date.parse(failingSince) >= this.host.retry.pauseAfterMs;
    const patch: DeliveryStatePatch = {
      state: paused ? 'paused' : 'retrying',
      attempts,
      failingSince,
      nextAttemptAt: paused ? null : now + retryDelay(attempts, this.host.retry, result.retryAfterMs),
      lastStatus: result.status,
      lastError: result.error,
    };
    this.record = { ...this.record, ...patch };
    await this.host.recordState(this, patch);
  }
}
