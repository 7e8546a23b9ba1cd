/**
 * The store's inlets and outlets: destinations (cursors over the log with their delivery
 * state and lease), sources (webhook inlets and their request log), API tokens for bots, and
 * channel mirrors. Every backend implements these beside `Store` (see `store.ts`), over the
 * same tables, and passes the same contract (`integrations.contract.ts`).
 */
import type { DestinationKind } from '../delivery/adapter.js';

export type DestinationState = 'active' | 'retrying' | 'paused';

export interface DestinationRecord {
  id: string;
  kind: DestinationKind;
  name: string;
  /** The kind's settings, as its adapter validated them. */
  config: Record<string, unknown>;
  secret: string | null;
  previousSecret: string | null;
  /** Until when the previous secret still signs (a rotation's overlap). */
  previousSecretUntil: string | null;
  /** The user a push device belongs to; null for the destinations admins manage. */
  ownerId: string | null;
  channels: string[];
  enabled: boolean;
  /** Every event up to this seq was accepted by the far side, or was not for this destination. */
  deliveredSeq: number;
  state: DestinationState;
  /** Failed attempts in a row at the event after `deliveredSeq`. */
  attempts: number;
  failingSince: string | null;
  /** Epoch ms of the next try while retrying. */
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  lastSuccessAt: string | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export type NewDestination = Pick<
  DestinationRecord,
  'kind' | 'name' | 'config' | 'secret' | 'ownerId' | 'channels' | 'enabled' | 'deliveredSeq' | 'createdBy'
>;

/** What the delivery engine records after each attempt. */
export type DeliveryStatePatch = Partial<
  Pick<
    DestinationRecord,
    'state' | 'attempts' | 'failingSince' | 'nextAttemptAt' | 'lastStatus' | 'lastError' | 'lastSuccessAt'
  >
>;

/** What an admin (or a device's owner) may change. */
export type DestinationPatch = Partial<
  Pick<
    DestinationRecord,
    'name' | 'config' | 'channels' | 'enabled' | 'secret' | 'previousSecret' | 'previousSecretUntil' | 'state'
  >
> &
  DeliveryStatePatch;

export type AttemptOutcome = 'delivered' | 'retry' | 'gone';

export interface DeliveryAttempt {
  id: number;
  destinationId: string;
  seq: number;
  eventId: string;
  /** 1 for the first try of this event, 2 for the first retry… */
  attempt: number;
  at: string;
  status: number | null;
  outcome: AttemptOutcome;
  error: string | null;
  durationMs: number;
}

export interface DestinationStore {
  create(destination: NewDestination): Promise<DestinationRecord>;
  get(id: string): Promise<DestinationRecord | undefined>;
  /** Admin-managed destinations (no owner), or one user's devices. */
  list(filter: { ownerId: string | null; kinds?: readonly DestinationKind[] }): Promise<DestinationRecord[]>;
  findPushByEndpoint(endpoint: string): Promise<DestinationRecord | undefined>;
  update(id: string, patch: DestinationPatch): Promise<DestinationRecord | undefined>;
  /** Removes a destination for good (a push device unsubscribed or gone); its attempts stay. */
  remove(id: string): Promise<boolean>;
  /**
   * Takes or renews the lease of every enabled, unpaused destination that is free, expired or
   * already this node's, until `now + leaseMs`, in one statement per call: two nodes can never
   * both hold one. Returns the destinations this node now holds.
   */
  claim(node: string, now: number, leaseMs: number): Promise<DestinationRecord[]>;
  /** Gives leases back (a node stopping). */
  release(node: string, ids: readonly string[]): Promise<void>;
  /**
   * Moves cursors forward, each only while `node` holds the destination's lease and only
   * forward. Returns the ids whose lease this node no longer holds.
   */
  advance(node: string, cursors: ReadonlyArray<{ id: string; seq: number } & DeliveryStatePatch>): Promise<string[]>;
  /** Records delivery state after an attempt that did not move the cursor (a retry, a pause). */
  recordState(node: string, id: string, patch: DeliveryStatePatch): Promise<boolean>;
  logAttempts(attempts: ReadonlyArray<Omit<DeliveryAttempt, 'id'>>): Promise<void>;
  /** Newest first; `seq` narrows to one event's attempts. */
  attempts(destinationId: string, query: { seq?: number; before?: number; limit: number }): Promise<DeliveryAttempt[]>;
  /** Keeps the newest `keep` attempts of each destination. */
  trimAttempts(keep: number): Promise<number>;
}

export interface SourceRecord {
  id: string;
  kind: 'tradingview';
  name: string;
  channel: string;
  /** The `source` label signals from it carry (statistics by source). */
  label: string | null;
  /** Market assumed when a body does not say. */
  market: string | null;
  /** Addresses and CIDR ranges allowed to post; null: any. */
  allowedIps: string[] | null;
  ratePerMinute: number;
  enabled: boolean;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  rotatedAt: string | null;
}

export type NewSource = Pick<
  SourceRecord,
  'kind' | 'name' | 'channel' | 'label' | 'market' | 'allowedIps' | 'ratePerMinute' | 'enabled' | 'createdBy'
> & { secretHash: string };

export type SourcePatch = Partial<
  Pick<SourceRecord, 'name' | 'label' | 'market' | 'allowedIps' | 'ratePerMinute' | 'enabled'>
>;

export type SourceOutcome = 'accepted' | 'duplicate' | 'refused' | 'rate_limited' | 'forbidden';

export interface SourceRequest {
  id: number;
  sourceId: string;
  at: string;
  address: string | null;
  contentType: string | null;
  /** The body as received, cut to a few KB. */
  body: string;
  status: number;
  outcome: SourceOutcome;
  reasons: Record<string, string> | null;
  eventId: string | null;
}

export interface SourceStore {
  create(source: NewSource): Promise<SourceRecord>;
  get(id: string): Promise<SourceRecord | undefined>;
  /** The enabled or disabled source whose secret hashes to `secretHash`. */
  bySecretHash(secretHash: string): Promise<SourceRecord | undefined>;
  list(): Promise<SourceRecord[]>;
  update(id: string, patch: SourcePatch): Promise<SourceRecord | undefined>;
  /** A new secret: the old one stops working at once. */
  rotate(id: string, secretHash: string): Promise<SourceRecord | undefined>;
  logRequest(request: Omit<SourceRequest, 'id'>): Promise<void>;
  /** Newest first. */
  requests(sourceId: string, limit: number): Promise<SourceRequest[]>;
  /** Keeps the newest `keep` requests of each source. */
  trimRequests(keep: number): Promise<number>;
}

export interface ApiTokenRecord {
  id: string;
  name: string;
  /** The channels it may publish to. */
  channels: string[];
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface TokenStore {
  create(token: {
    name: string;
    tokenHash: string;
    channels: string[];
    createdBy: string | null;
  }): Promise<ApiTokenRecord>;
  byHash(tokenHash: string): Promise<ApiTokenRecord | undefined>;
  list(): Promise<ApiTokenRecord[]>;
  revoke(id: string): Promise<boolean>;
  /** At most about once a minute per token: not a write per publish. */
  touch(id: string, at: string): Promise<void>;
}

export interface MirrorRecord {
  /** The channel that receives (e.g. free). */
  channel: string;
  /** The channel it mirrors (e.g. vip). */
  origin: string;
  delaySeconds: number;
  /** Origin events after this seq are released; earlier ones never are. */
  fromSeq: number;
  createdAt: string;
  updatedAt: string;
}

export interface MirrorStore {
  /** Sets (or changes the delay of) the mirror of `channel`. */
  put(mirror: Pick<MirrorRecord, 'channel' | 'origin' | 'delaySeconds' | 'fromSeq'>): Promise<MirrorRecord>;
  list(): Promise<MirrorRecord[]>;
  remove(channel: string): Promise<boolean>;
}
