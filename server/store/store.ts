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
import type { Selectable } from 'kysely';
import type { SignalData, SignalView, StoredEvent, UpdateData } from '../../shared/events.js';
import type { DestinationStore, MirrorStore, SourceStore, TokenStore } from './integrations.js';
import type { Database } from './schema.js';
import type { Role, SignalListQuery } from '../../shared/schemas.js';

/** Settings setup reads and writes: the one-time code, and the mark that setup ran. */
export const SETUP_CODE_SETTING = 'setup_code';
export const SETUP_DONE_SETTING = 'setup_done';

/**
 * Every table of the store, by what it holds. Moving an installation copies `state` as rows
 * (`exportState`/`importState`) and the `log` through `importEvents`, which rebuilds the
 * `derived` tables; `transient` tables are not moved. A contract test fails when a table is
 * in none of these lists, so a new table cannot be forgotten by the copy.
 */
export const TABLES = {
  state: [
    'users',
    'channels',
    'grants',
    'sessions',
    'idempotency_keys',
    'signing_keys',
    'settings',
    'destinations',
    'sources',
    'api_tokens',
    'channel_mirrors',
  ],
  log: ['events', 'log_head', 'channel_heads'],
  /** `signals_search` (SQLite's full-text index, with its shadow tables) is rebuilt by triggers. */
  derived: ['signals', 'signals_search'],
  /** Operational records: counters, and the attempt logs of destinations and sources. */
  transient: ['login_throttle', 'schema_migrations', 'delivery_attempts', 'source_requests'],
} as const;

export type StateTable = (typeof TABLES.state)[number];

/** Everything an installation holds besides its log, table by table, as stored. */
export type InstallationState = { [T in StateTable]: Array<Selectable<Database[T]>> };

/** Channel filter: every channel (admins) or the listed ones. */
export type ChannelScope = 'all' | readonly string[];

/** What a caller appends; the store assigns seq, id, time and the chain links. */
export type EventDraft =
  | { type: 'signal.created'; channel: string; author: string; data: SignalData }
  /** An update belongs to the channel of its signal. */
  | { type: 'signal.updated'; signalId: string; author: string; data: UpdateData };

export interface AppendOptions {
  /**
   * Deduplicates retries: the same actor and key return the original event. With `windowMs`,
   * a key older than that is forgotten and the request appends anew (identical webhook bodies
   * are the same alert only for a while).
   */
  idempotency?: { actorId: string; key: string; requestHash: string; windowMs?: number };
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

/** A signal's row of the derived table, as stored: what `verify` rebuilds from the log and compares. */
export interface DerivedSignalRow {
  view: SignalView;
  /** The columns history queries filter and sort on, beside the view. */
  columns: {
    id: string;
    seq: number;
    lastSeq: number;
    channel: string;
    symbol: string;
    market: string;
    side: string;
    status: string;
    search: string;
    createdAt: string;
    updatedAt: string;
  };
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
  /**
   * PKCS#8 PEM when the database holds it (whoever can read the database can then sign as
   * the server); null when it is kept outside, in a 0600 file or the environment.
   */
  privateKey: string | null;
  createdAt: string;
  /** When it stopped signing; its public key stays, so heads it signed keep verifying. */
  retiredAt: string | null;
}

/** A throttle counter: attempts under one key (an account, an address) in a time window. */
export interface ThrottleState {
  /** Attempts counted in the current window, the one just made included. */
  attempts: number;
  /** Epoch ms the window began. */
  windowStart: number;
  /** Epoch ms; while it is in the future the key is locked and attempts are not counted. */
  lockedUntil: number;
  /** Locks in a row for this key, so each can last longer than the one before. */
  strikes: number;
}

export interface NewUser {
  email: string;
  name: string | null;
  role: Role;
  passwordHash: string;
}

export interface Store {
  /** Short name of the backend for logs and health output ('sqlite' | 'postgres'). */
  readonly kind: string;
  // ---- inlets and outlets (integrations.ts)
  readonly destinations: DestinationStore;
  readonly sources: SourceStore;
  readonly tokens: TokenStore;
  readonly mirrors: MirrorStore;
  /**
   * Whether several nodes may serve from this database at once (PostgreSQL): what must hold
   * across nodes (rate limits, leases) is then kept in the store rather than in memory.
   */
  readonly sharedByNodes: boolean;
  migrate(): Promise<number>;
  close(): Promise<void>;
  /** Cheap liveness probe of the database connection. */
  ping(): Promise<void>;
  /** How much room the database takes: its size, and its write-ahead log where that is a file of its own. */
  sizes(): Promise<{ databaseBytes: number; walBytes: number | null }>;
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
  /** Rows of the derived signals table in seq order after `afterSeq`, exactly as stored. */
  derivedSignals(afterSeq: number, limit: number): Promise<DerivedSignalRow[]>;
  /** The events of these signals, ascending seq. */
  eventsOfSignals(signalIds: readonly string[]): Promise<StoredEvent[]>;
  listSignals(query: SignalListQuery, channels: ChannelScope): Promise<SignalView[]>;

  // ---- accounts
  createUser(user: NewUser): Promise<UserRecord>;
  /**
   * Creates the first admin through setup, atomically: only with the setup code stored under
   * `setup_code` (which it consumes) and only while setup was never completed and no admin
   * exists. Throws 403 `setup_code_invalid` for a wrong code, 409 `setup_done` afterwards.
   */
  completeSetup(code: string, user: NewUser): Promise<UserRecord>;
  getUser(id: string): Promise<UserRecord | undefined>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  countAdmins(): Promise<number>;
  setUserDisabled(id: string, disabled: boolean): Promise<void>;
  setUserName(id: string, name: string | null): Promise<void>;
  setPasswordHash(id: string, passwordHash: string): Promise<void>;
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
  /** Revokes every live session of the user, but `exceptSessionId` when given. */
  revokeUserSessions(userId: string, exceptSessionId?: string): Promise<void>;

  // ---- throttles: sign-in attempts per account and per address, rate limits shared by nodes
  /**
   * Counts one attempt under `key` in one atomic statement and returns the counter after it,
   * so concurrent attempts each see their own count. A window older than `windowMs` starts
   * again at 1; an attempt while the key is locked is not counted.
   */
  hitThrottle(key: string, now: number, windowMs: number): Promise<ThrottleState>;
  /**
   * Locks `key` until `until` unless a lock is running: one strike more, and the count starts
   * again when the lock ends.
   */
  lockThrottle(key: string, now: number, until: number): Promise<void>;
  /** Takes one counted attempt back (a sign-in that succeeded from an address). */
  forgiveThrottle(key: string): Promise<void>;
  clearThrottle(key: string): Promise<void>;
  /** Deletes the counters whose window began before `before` and whose lock is over at `now`. */
  purgeThrottles(before: number, now: number): Promise<number>;

  // ---- settings: installation-wide values (the setup code, VAPID keys)
  getSetting(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` unless a value is there; returns the stored one (the same on every node). */
  ensureSetting(key: string, value: string): Promise<string>;
  putSetting(key: string, value: string): Promise<void>;
  deleteSetting(key: string): Promise<void>;

  // ---- moving an installation
  /** Every row of the `state` tables (see TABLES). */
  exportState(): Promise<InstallationState>;
  /** Writes `state` into this store, ids kept, in one transaction; for an empty store. */
  importState(state: InstallationState): Promise<void>;

  // ---- chain-head signing keys
  /** The active key: the oldest not retired, so nodes that raced to add one all pick the same. */
  signingKey(): Promise<SigningKeyRecord | undefined>;
  /** Every key ever added, retired ones included, oldest first. */
  signingKeys(): Promise<SigningKeyRecord[]>;
  addSigningKey(key: SigningKeyRecord): Promise<void>;
  /**
   * Adds `key` only when no key is active, atomically across nodes, and returns the active key
   * afterwards: of nodes racing to create the first key, one adds it and every one gets it.
   */
  claimSigningKey(key: SigningKeyRecord): Promise<SigningKeyRecord>;
  retireSigningKey(id: string, at: string): Promise<void>;
  /** Drops the private half from the database (it moved to a key file); the public half stays. */
  forgetPrivateKey(id: string): Promise<void>;
}
