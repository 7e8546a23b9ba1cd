/**
 * Long reads of the log — a replay from the database, an export, a catch-up of the stats —
 * share the event loop with everything else. better-sqlite3 answers synchronously, so a loop
 * that reads page after page and only awaits already-settled promises never lets a request
 * in: one replay of a long log used to hold the loop for seconds.
 *
 * Three things fix it here:
 * - **Turns.** Before each page, a reader waits for its turn. Turns are handed out one per
 *   event-loop iteration (a `setImmediate` each), first come first served across every
 *   reader of the node, so between any two pages the loop polls for I/O: a publish or a
 *   health check waits for one page at most, whatever number of readers.
 * - **A share of the loop.** Pages may take `share` of the loop's time at most (three
 *   quarters by default), all readers together: after each turn the next waits as long as
 *   the turn took (its page, and whatever else ran until the next iteration) times
 *   (1 − share) / share, so a node busy replaying still has time, and CPU, to spare for
 *   everything else when it comes; the busier the node, the more the pages wait.
 * - **Admission.** At most `perOwner` long reads run per user and `perNode` per node; the
 *   rest wait in line, and past `maxWaiting` are refused (`GateFull`) rather than queued
 *   without end. Each admitted read holds at most one page and its transport's buffer.
 */
import { performance } from 'node:perf_hooks';
import { Gate } from './gate.js';

export interface BacklogOptions {
  /** Long reads running at once on this node. */
  perNode?: number;
  /** Long reads running at once for one user. */
  perOwner?: number;
  /** Reads waiting for admission (node-wide) before new ones are refused. */
  maxWaiting?: number;
  /**
   * The share of the event loop's time long reads take at most, together: after each turn
   * the loop rests (serving everything else, or idle) for as long as the turn took times
   * (1 − share) / share. 1 lets pages follow each other with only the I/O poll between.
   */
  share?: number;
}

export interface BacklogLease {
  /** Resolves when this reader may read its next page. */
  turn(): Promise<void>;
  /** Frees the places this read held; safe to call more than once. */
  release(): void;
}

export class Backlog {
  private readonly node: Gate;
  private readonly owners = new Map<string, Gate>();
  private readonly perOwner: number;
  private readonly maxWaiting: number;
  private readonly turns: Array<() => void> = [];
  private pumping = false;
  private readonly share: number;
  /** Milliseconds the loop still owes everything else, from pages that took less than one. */
  private owed = 0;

  constructor(options: BacklogOptions = {}) {
    this.maxWaiting = options.maxWaiting ?? 10_000;
    this.perOwner = options.perOwner ?? 2;
    this.share = options.share ?? 0.75;
    this.node = new Gate('long log reads', options.perNode ?? 32, this.maxWaiting);
  }

  /** Reads running now and waiting for admission, node-wide. */
  get load(): { active: number; waiting: number } {
    return { active: this.node.active, waiting: this.node.queued };
  }

  /**
   * Admits one long read for `owner` (a user id), waiting while the owner or the node is at
   * its bound. Rejects with GateFull when too many already wait.
   */
  async admit(owner: string): Promise<BacklogLease> {
    let gate = this.owners.get(owner);
    if (!gate) this.owners.set(owner, (gate = new Gate(`long log reads of ${owner}`, this.perOwner, this.maxWaiting)));
    const releaseOwner = await gate.acquire();
    let releaseNode: () => void;
    try {
      releaseNode = await this.node.acquire();
    } catch (error) {
      this.forget(owner, gate, releaseOwner);
      throw error;
    }
    let released = false;
    return {
      turn: () => this.turn(),
      release: () => {
        if (released) return;
        released = true;
        releaseNode();
        this.forget(owner, gate, releaseOwner);
      },
    };
  }

  /** One page's turn, for readers that need no admission (the node's own catch-ups). */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.turns.push(resolve);
      if (!this.pumping) {
        this.pumping = true;
        setImmediate(this.pump);
      }
    });
  }

  /**
   * Hands out one turn, then schedules the next for the following loop iteration (an
   * immediate queued from inside an immediate waits for the next iteration's I/O poll), or
   * later by the rest the loop is owed.
   */
  private readonly pump = (): void => {
    const next = this.turns.shift();
    if (!next) {
      this.pumping = false;
      return;
    }
    const started = performance.now();
    next();
    // The reader's page is read and written in the microtasks that follow; this runs once
    // they have, after the next I/O poll. The rest owed is paid in whole milliseconds.
    setImmediate(() => {
      if (this.turns.length === 0) {
        this.pumping = false;
        return;
      }
      this.owed += (performance.now() - started) * (1 / this.share - 1);
      if (this.owed < 1) return this.pump();
      const rest = this.owed;
      this.owed = 0;
      setTimeout(this.pump, rest);
    });
  };

  private forget(owner: string, gate: Gate, release: () => void): void {
    release();
    if (gate.active === 0 && gate.queued === 0) this.owners.delete(owner);
  }
}
