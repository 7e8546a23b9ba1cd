/** Response shapes of the endpoints the web app reads. Event and signal shapes come from shared/. */
import type { Abilities } from '../../server/core/policy.js';
import type { PublicUser, SignalView, StoredEvent } from '../../shared/events.js';

export type { Abilities };

export interface Channel {
  slug: string;
  name: string;
  description: string | null;
  createdAt: string;
}

export interface Me {
  user: PublicUser;
  abilities: Abilities;
  channels: Channel[];
  positions: { delivered: number; read: number };
  headSeq: number;
  csrfToken: string | null;
}

export interface SessionStart {
  token: string;
  user: PublicUser;
  csrfToken: string;
}

export interface SignalPage {
  items: SignalView[];
  nextCursor: number | null;
}

export interface SignalDetail {
  signal: SignalView;
  events: StoredEvent[];
}

export interface Receipts {
  signalId: string;
  seq: number;
  entitled: number;
  connected: number;
  delivered: number;
  read: number;
}

export interface Unread {
  read: number;
  unread: number;
  capped: boolean;
}
