/**
 * The cross-node transport. Its whole contract: `publish` a message after the change it
 * announces has committed, and every subscribed node (this one included) receives it.
 * Delivery may be late, duplicated or lost for `events`/`head` hints: the hub repairs that
 * from the log. Control messages are best-effort and idempotent by design.
 */
import type { StoredEvent } from '../../shared/events.js';
import type { NodeStatus } from '../system.js';

export type BusMessage =
  /** Committed events, whole (in-process) — the hub delivers them without reading the log. */
  | { kind: 'events'; events: StoredEvent[] }
  /** The log reached `seq`; read what is missing from the log. */
  | { kind: 'head'; seq: number }
  /** A user's access to a channel changed. */
  | { kind: 'access'; userId: string; channel: string; change: 'granted' | 'revoked' }
  /** A channel was created (admins' live subscriptions cover it). */
  | { kind: 'channel'; slug: string }
  /** A destination was added, changed or removed: nodes re-read which they hold. */
  | { kind: 'destinations' }
  /** A channel mirror was set or removed: nodes re-read the mirrors. */
  | { kind: 'mirrors' }
  /** A node says how it is (the System page lists every node heard from lately). */
  | { kind: 'node'; status: NodeStatus }
  /** Close the live connections of a session, or of every session of a user but `exceptSessionId`. */
  | { kind: 'disconnect'; userId?: string; sessionId?: string; exceptSessionId?: string; reason: string }
  /** Local only: the transport may have dropped messages; re-check access and the log. */
  | { kind: 'resync' };

/** Whether a `disconnect` message closes a connection of `session` (its user id and session id). */
export function disconnects(
  message: Extract<BusMessage, { kind: 'disconnect' }>,
  session: { userId: string; sessionId: string },
): boolean {
  if (message.sessionId !== undefined && message.sessionId === session.sessionId) return true;
  return message.userId === session.userId && message.exceptSessionId !== session.sessionId;
}

export interface Bus {
  readonly kind: string;
  /** False while the transport is known to be down (messages then wait for the resync); absent when it cannot fail. */
  readonly listening?: boolean;
  publish(message: BusMessage): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(handler: (message: BusMessage) => void): () => void;
  close(): Promise<void>;
}
