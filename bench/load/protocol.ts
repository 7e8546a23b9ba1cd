/**
 * What the orchestrator and a load-generator process say to each other over IPC
 * (`serialization: 'advanced'`, so typed arrays travel as they are).
 */

export interface ClientSpec {
  /** Session token for signal-desk; the baselines ignore it. */
  token?: string;
  /** Sent in the handshake; the client then expects every seq after it, once, in order. */
  lastSeq?: number;
}

export type Command =
  | {
      type: 'open';
      url: string;
      clients: ClientSpec[];
      /** When a client counts as connected: the Socket.IO connect, or signal-desk's `live`. */
      readyOn: 'connect' | 'live';
      /** Clients bind to 127.0.0.<2 + i % spread> so ephemeral ports do not run short. */
      addressSpread: number;
    }
  | { type: 'expect'; base: number; count: number }
  | { type: 'collect' }
  | { type: 'progress' }
  | { type: 'positions' }
  | { type: 'drop' }
  | { type: 'reopen'; targetSeq: number }
  | { type: 'close' };

export interface Opened {
  type: 'opened';
  ok: number;
  failed: number;
  firstError?: string;
}

export interface Collected {
  type: 'collected';
  /** Per expected signal, the arrival times (ms, monotonic clock) of the clients that got it. */
  arrivals: Float64Array[];
  duplicates: number;
  /** Deliveries whose seq was not exactly the previous one + 1. */
  gaps: number;
  /** CPU this process used since the last `expect` (µs). */
  cpuMicros: number;
  wallMs: number;
}

export interface Reopened {
  type: 'reopened';
  /** Per client, ms from the reopen order until it was live with every seq up to the target. */
  caughtUpMs: Float64Array;
  /** Clients that never caught up before the deadline. */
  behind: number;
  duplicates: number;
  gaps: number;
  failed: number;
  cpuMicros: number;
}

/** Every client's highest seq received so far, and the order checks since the last `expect`. */
export interface Positions {
  type: 'positions';
  seqs: number[];
  duplicates: number;
  gaps: number;
}

export type Reply =
  | Opened
  | Collected
  | Reopened
  | Positions
  | { type: 'progress'; delivered: number }
  | { type: 'dropped' }
  | { type: 'closed' };

/** Monotonic milliseconds shared by every process on the machine (CLOCK_MONOTONIC). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
