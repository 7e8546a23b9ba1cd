/**
 * Who may do and see what — the one place. Every read path asks `scopeOf`/`canSee`, so
 * live push, replay, history, SSE, export and search filter identically.
 */
import type { ChannelScope, UserRecord } from '../store/store.js';

export interface Actor {
  user: UserRecord;
  sessionId: string;
  /** Epoch ms the session ends: live connections opened with it are closed then. */
  sessionExpiresAt: number;
  /** Channels granted to the user (admins see every channel regardless). */
  channels: readonly string[];
}

export function isAdmin(actor: Actor): boolean {
  return actor.user.role === 'admin';
}

export function scopeOf(actor: Actor): ChannelScope {
  return isAdmin(actor) ? 'all' : actor.channels;
}

export function canSee(actor: Actor, channel: string): boolean {
  return isAdmin(actor) || actor.channels.includes(channel);
}

/**
 * Whoever appends to the log: an admin, a bot's API token, a webhook source, a mirror. What
 * it appends carries `author`; `canPublishTo` is checked for every event's channel, the
 * channel of an update's signal included.
 */
export interface Publisher {
  /** A user id, or `token:<id>`, `source:<id>`, `mirror:<channel>`. */
  readonly author: string;
  canPublishTo(channel: string): boolean;
}

/** An admin publishes anywhere; nobody else through a session. */
export function publisherOf(actor: Actor): Publisher {
  return { author: actor.user.id, canPublishTo: () => isAdmin(actor) };
}

/** What the web app may offer this user; the UI never re-derives role logic. */
export function abilitiesOf(actor: Actor) {
  const admin = isAdmin(actor);
  return {
    publish: admin,
    updateSignals: admin,
    manageChannels: admin,
    manageUsers: admin,
    viewReceipts: admin,
    manageIntegrations: admin,
    viewSystem: admin,
    export: true,
  };
}
export type Abilities = ReturnType<typeof abilitiesOf>;
