/**
 * Keeps each destination (or each group sharing a limit, such as one Telegram chat) within
 * `limit` sends per `perMs`: a sliding window of recent send times per key. A send that would
 * exceed it waits for the oldest to leave the window, instead of earning a 429.
 */
import type { Pace } from './adapter.js';

export class Pacer {
  private readonly recent = new Map<string, number[]>();

  /** Resolves when one more send under `pace` is allowed, and counts it. */
  async take(pace: Pace, now: () => number = Date.now): Promise<void> {
    for (;;) {
      const at = now();
      const times = (this.recent.get(pace.key) ?? []).filter((t) => t > at - pace.perMs);
      if (times.length < pace.limit) {
        times.push(at);
        this.recent.set(pace.key, times);
        return;
      }
      this.recent.set(pace.key, times);
      await new Promise((resolve) => setTimeout(resolve, times[0]! + pace.perMs - at));
    }
  }
}
