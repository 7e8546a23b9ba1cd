/**
 * Delivered and read positions, one pair per user. Clients report them at most about once
 * a second; this keeps the highest value per user and writes them in one batch a second,
 * so reports never touch the database on the broadcast path.
 */
import type { Store } from '../store/store.js';

interface Pending {
  delivered?: number;
  read?: number;
}

export class PositionTracker {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly flushMs = 1000,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  report(userId: string, position: Pending): void {
    const current = this.pending.get(userId) ?? {};
    if (position.delivered !== undefined && position.delivered > (current.delivered ?? -1))
      current.delivered = position.delivered;
    if (position.read !== undefined && position.read > (current.read ?? -1)) current.read = position.read;
    this.pending.set(userId, current);
  }

  flush(): Promise<void> {
    const batch = this.pending;
    if (batch.size === 0) return this.flushing;
    this.pending = new Map();
    this.flushing = this.flushing.then(async () => {
      for (const [userId, position] of batch) {
        try {
          await this.store.advancePositions(userId, position);
        } catch (error) {
          this.onError(error);
        }
      }
    });
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
