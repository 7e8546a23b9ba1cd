/** Response shapes of the endpoints the web app reads. Event and signal shapes come from shared/. */
import type { Abilities } from '../../server/core/policy.js';
import type { ApiTokenRecord, DeliveryAttempt, MirrorRecord } from '../../server/store/integrations.js';
import type { SystemMonitor } from '../../server/system.js';
import type { PublicUser, SignalView, StoredEvent } from '../../shared/events.js';

/**
 * What the signed-in user may do, from the server's policy: `publish`, `updateSignals`,
 * `manageChannels`, `manageUsers`, `viewReceipts`, `manageIntegrations` (API tokens,
 * destinations, sources), `viewSystem` (the System page), `export`.
 */
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

/** One of the user's devices with notifications on (`/api/push/subscriptions`). */
export interface PushDevice {
  id: string;
  label: string;
  channels: string[];
  /** The push service's host (fcm.googleapis.com, updates.push.services.mozilla.com…). */
  pushService: string;
  state: 'active' | 'retrying' | 'paused';
  lastSuccessAt: string | null;
  lastError: string | null;
  createdAt: string;
}

/** What the far side answered a test send. */
export interface TestSendResult {
  ok: boolean;
  status: number | null;
  error: string | null;
}

export type DestinationKind = 'webhook' | 'telegram' | 'discord';
export type DestinationState = 'active' | 'retrying' | 'paused' | 'disabled';

/** An admin-managed destination and where it stands against the log (`/api/destinations`). */
export interface Destination {
  id: string;
  kind: DestinationKind;
  name: string;
  /** Where it delivers, without secrets (a Discord token is elided). */
  target: string;
  channels: string[];
  enabled: boolean;
  state: DestinationState;
  /** Every event up to here was accepted by the far side, or was not for this destination. */
  deliveredSeq: number;
  headSeq: number;
  /** Events of its channels after `deliveredSeq`, counted up to a cap (`pendingCapped`). */
  pending: number;
  pendingCapped: boolean;
  /** Failed attempts in a row at the waiting event. */
  attempts: number;
  failingSince: string | null;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  lastSuccessAt: string | null;
  secretRotating: boolean;
  previousSecretUntil: string | null;
  /** The node holding its lease, when one does. */
  worker: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DestinationList {
  items: Destination[];
  headSeq: number;
}

export type { DeliveryAttempt };

export interface DeliveryLog {
  items: DeliveryAttempt[];
  nextBefore: number | null;
}

/** An API token as listed (`GET /api/tokens`): never the token itself. */
export type ApiToken = ApiTokenRecord;

/** `POST /api/tokens`: the record and, this once, the token. */
export type CreatedApiToken = ApiTokenRecord & { token: string };

/** A channel receiving another's events after a delay (`GET /api/mirrors`). */
export type Mirror = MirrorRecord;

/**
 * `GET /api/system`, typed from the server's own snapshot so the page and the server cannot
 * drift apart: this node, every node heard from lately, connections and deliveries over the
 * last hour, latency over the last 5 minutes, database size, signing key, destinations, replays.
 */
export type SystemStatus = Awaited<ReturnType<SystemMonitor['snapshot']>>;
export type SystemNode = SystemStatus['nodes'][number];
export type SystemSample = SystemStatus['history'][number];
