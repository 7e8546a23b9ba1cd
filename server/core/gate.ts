/**
 * A bound on how many of something run at once, with a bounded first-come-first-served
 * queue for the rest. Past the queue's bound a caller is refused at once rather than left
 * waiting behind work it cannot see the end of.
 */
export class GateFull extends Error {
  constructor(readonly gate: string) {
    super(`${gate}: too many waiting`);
  }
}

export class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly name: string,
    readonly limit: number,
    readonly maxWaiting: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with a release function once a place is free; throws GateFull when the queue is. */
  acquire(): Promise<() => void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxWaiting) return Promise.reject(new GateFull(this.name));
    return new Promise((resolve) => this.waiting.push(() => resolve(this.releaser())));
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** A release that frees the place once, however often it is called. */
  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The place passes straight to the next in line, so a newcomer cannot overtake it.
      if (next) next();
      else this.running--;
    };
  }
}
