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

/** What the web app may offer this user; the UI never re-derives role logic. */
export function abilitiesOf(actor: Actor) {
  const admin = isAdmin(actor);
  return {
    publish: admin,
    updateSignals: admin,
    manageChannels: admin,
    manageUsers: admin,
    viewReceipts: admin,
    export: true,
  };
}
export type Abilities = ReturnType<typeof abilitiesOf>;
