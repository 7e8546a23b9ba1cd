/** The single-node bus: messages go straight to this process's handlers, synchronously. */
import type { Bus, BusMessage } from './bus.js';

export class MemoryBus implements Bus {
  readonly kind = 'memory';
  private readonly handlers = new Set<(message: BusMessage) => void>();

  async publish(message: BusMessage): Promise<void> {
    for (const handler of this.handlers) handler(message);
  }

  subscribe(handler: (message: BusMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
