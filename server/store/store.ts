/**
 * The storage contract. Every implementation (SQLite, PostgreSQL) passes
 * `store.contract.ts`, and the rest of the server depends on this file only.
 *
 * Guarantees every implementation gives:
 * - `append` assigns `seq` = previous head + 1 under a lock held until commit, so seqs are
 *   gap-free and commit-ordered: a reader that has seen seq N has seen every seq below N.
 * - `append` resolves only after a durable commit; on rejection nothing was written.
 * - Events are immutable: the database refuses UPDATE and DELETE on them.
 */
import type { SignalData, SignalView, StoredEvent, UpdateData } from '../../shared/events.js';
import type { Role, SignalListQuery } from '../../shared/schemas.js';

/** Channel filter: every channel (admins) or the listed ones. */
export type ChannelScope = 'all' | readonly string[];

/** What a caller appends; the store assigns seq, id, time and the chain links. */
export type EventDraft =
  | { type: 'signal.created'; channel: string; author: string; data: SignalData }
  /** An update belongs to the channel of its signal. */
  | { type: 'signal.updated'; signalId: string; author: string; data: UpdateData };

export interface AppendOptions {
  /** Deduplicates retries: the same actor and key return the original event. */
  idempotency?: { actorId: string; key: string; requestHash: string };
  /**
   * For updates: called inside the transaction with the signal's current state; throwing
   * aborts the append. Lifecycle rules live here so two concurrent updates cannot both pass.
   */
  guard?: (current: SignalView) => void;
}

export interface AppendResult {
  event: StoredEvent;
  signal: SignalView;
  /** True when an idempotency key matched and nothing new was written. */
  replayed: boolean;
}

export interface UserRecord {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  passwordHash: string;
  disabledAt: string | null;
  createdAt: string;
  deliveredSeq: number;
  readSeq: number;
}

export interface ChannelRecord {
  slug: string;
  name: string;
  description: string | null;
  createdAt: string;
}

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

/** A session with its user, read together: what authenticating a request needs. */
export interface SessionWithUser extends SessionRecord {
  user: UserRecord;
}

export interface ChannelHead {
  channel: string;
  seq: number;
  hash: string;
  createdAt: string;
}

export interface EventsQuery {
  after: number;
  /** Inclusive upper bound. */
  upTo?: number;
  limit: number;
  channels: ChannelScope;
}

export interface SigningKeyRecord {
  id: string;
  algorithm: string;
  /** SPKI PEM. */
  publicKey: string;
  /** PKCS#8 PEM, stored as is: whoever can read the database can sign as the server. */
  privateKey: string;
  createdAt: string;
}

export interface LoginThrottle {
  failures: number;
  windowStart: number;
  lockedUntil: number;
}

export interface Store {
  /** Short name of the backend for logs and health output ('sqlite' | 'postgres'). */
  readonly kind: string;
  migrate(): Promise<number>;
  close(): Promise<void>;
  /** Cheap liveness probe of the database connection. */
  ping(): Promise<void>;
  /**
   * For stores that other processes may write while no bus carries their news (SQLite and
   * the CLI): calls `onChange` within about `intervalMs` after another connection commits.
   * Returns a function that stops watching. Absent where the bus already tells every node.
   */
  watchExternalCommits?(onChange: () => void, intervalMs?: number): () => void;

  // ---- the log
  append(draft: EventDraft, options?: AppendOptions): Promise<AppendResult>;
  headSeq(): Promise<number>;
  readEvents(query: EventsQuery): Promise<StoredEvent[]>;
  eventsOfSignal(signalId: string): Promise<StoredEvent[]>;
  /** How many events in scope follow `after`, counting no further than `cap`. */
  countEvents(query: { after: number; channels: ChannelScope; cap: number }): Promise<number>;
  channelHeads(): Promise<ChannelHead[]>;
  /**
   * Writes already-hashed events verbatim (import, migration). Requires that each event's
   * seq is head + 1 and its prevHash matches its channel head; the caller verifies first.
   */
  importEvents(events: readonly StoredEvent[]): Promise<void>;

  // ---- derived signal state
  getSignal(id: string): Promise<SignalView | undefined>;
  listSignals(query: SignalListQuery, channels: ChannelScope): Promise<SignalView[]>;

  // ---- accounts
  createUser(user: { email: string; name: string | null; role: Role; passwordHash: string }): Promise<UserRecord>;
  getUser(id: string): Promise<UserRecord | undefined>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  countAdmins(): Promise<number>;
  setUserDisabled(id: string, disabled: boolean): Promise<void>;
  setUserName(id: string, name: string | null): Promise<void>;
  /** Raises positions monotonically; a lower value is ignored. */
  advancePositions(userId: string, positions: { delivered?: number; read?: number }): Promise<void>;

  createChannel(channel: { slug: string; name: string; description: string | null }): Promise<ChannelRecord>;
  listChannels(): Promise<ChannelRecord[]>;
  getChannel(slug: string): Promise<ChannelRecord | undefined>;

  grant(userId: string, channel: string): Promise<boolean>;
  revoke(userId: string, channel: string): Promise<boolean>;
  channelsOf(userId: string): Promise<string[]>;
  /** Subscribers (not disabled) granted `channel`: the audience receipts are counted over. */
  subscribersOf(channel: string): Promise<Array<{ id: string; deliveredSeq: number; readSeq: number }>>;

  createSession(session: { id: string; tokenHash: string; userId: string; expiresAt: string }): Promise<void>;
  findSession(tokenHash: string): Promise<SessionWithUser | undefined>;
  /** Ids of the user's sessions that are neither revoked nor expired. */
  liveSessionIds(userId: string): Promise<Set<string>>;
  revokeSession(id: string): Promise<void>;
  revokeUserSessions(userId: string): Promise<void>;

  getLoginThrottle(key: string): Promise<LoginThrottle | undefined>;
  putLoginThrottle(key: string, value: LoginThrottle): Promise<void>;
  clearLoginThrottle(key: string): Promise<void>;

  // ---- chain-head signing keys
  /** The active key: the oldest not retired, so nodes that raced to add one all pick the same. */
  signingKey(): Promise<SigningKeyRecord | undefined>;
  addSigningKey(key: SigningKeyRecord): Promise<void>;
}
