/**
 * The store over Kysely, shared by the SQLite and PostgreSQL backends. What differs between
 * them is given as a `Backend`: its migrations and how to open, probe and close it.
 */
import { CompiledQuery, sql, type Kysely, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import { uuidv7 } from 'uuidv7';
import {
  GENESIS_HASH,
  type SignalCreatedEvent,
  type SignalUpdatedEvent,
  type SignalView,
  type StoredEvent,
} from '../../shared/events.js';
import type { Role, SignalListQuery } from '../../shared/schemas.js';
import { applyUpdate, initialView } from '../../shared/signal-state.js';
import { AppError, conflict, notFound } from '../core/errors.js';
import { eventHash } from '../core/hash-chain.js';
import { searchText } from './derived-row.js';
import { SqlDestinations } from './sql/destinations.js';
import { SqlMirrors, SqlSources, SqlTokens } from './sql/sources.js';
import { hotQueries, type HotQueries } from './hot-queries.js';
import { ask, runSteps, type Steps } from './query-steps.js';
import type { Database, EventsTable } from './schema.js';
import {
  type AppendOptions,
  type AppendResult,
  type ChannelHead,
  type ChannelRecord,
  type ChannelScope,
  type DerivedSignalRow,
  type EventDraft,
  type EventsQuery,
  type NewUser,
  SETUP_CODE_SETTING,
  SETUP_DONE_SETTING,
  type SessionWithUser,
  type InstallationState,
  type SigningKeyRecord,
  type StateTable,
  type Store,
  TABLES,
  type ThrottleState,
  type UserRecord,
} from './store.js';

export interface Backend {
  kind: string;
  /** Several nodes may share this database (see Store.sharedByNodes). */
  sharedByNodes: boolean;
  migrations: readonly (readonly string[])[];
  /** Releases what the backend opened besides the Kysely instance. */
  close(): Promise<void>;
  /**
   * Appends that arrive in the same event-loop turn share one transaction (one durable
   * commit). For a driver whose commit blocks the process (better-sqlite3's fsync), this
   * turns a backlog of N publishes into one fsync instead of N.
   */
  groupCommit?: boolean;
  /**
   * Runs a whole transaction at once, for a driver whose statements complete as they are
   * called (better-sqlite3): nothing is awaited between its statements. Without it, each is
   * awaited in a Kysely transaction.
   */
  runTransaction?<T>(steps: Steps<T>): Promise<T>;
  /** See Store.sizes. */
  sizes(db: Kysely<Database>): Promise<{ databaseBytes: number; walBytes: number | null }>;
  /**
   * `text` (lower-cased) as a condition on the `signals` table: a substring of its search
   * column. Backends with an index of their own for it say how to use it; the default is
   * `LIKE`, which PostgreSQL serves from its trigram index.
   */
  searchCondition?(text: string): RawBuilder<SqlBool>;
  /**
   * Runs `work` so that no other `work` under the same `lock` interleaves with it, whichever
   * node runs it. Without it, `work` runs as it is, and must then be one statement, which the
   * database runs under its write lock.
   */
  exclusively?<T>(db: Kysely<Database>, lock: number, work: (db: Kysely<Database>) => Promise<T>): Promise<T>;
}

/** `%text%` with LIKE's wildcards taken literally. */
export function likeSubstring(text: string): RawBuilder<SqlBool> {
  const pattern = `%${text.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`signals.search LIKE ${pattern} ESCAPE '\\'`;
}

/** What became of one queued append. */
type Outcome = { result: AppendResult } | { error: unknown };

interface QueuedAppend {
  draft: EventDraft;
  options: AppendOptions;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

type Db = Kysely<Database>;

const SAVEPOINT = CompiledQuery.raw('SAVEPOINT queued_append');
const ROLLBACK_TO_SAVEPOINT = CompiledQuery.raw('ROLLBACK TO SAVEPOINT queued_append');
const RELEASE_SAVEPOINT = CompiledQuery.raw('RELEASE SAVEPOINT queued_append');

/** Thrown inside a migration's transaction when another process recorded that version first. */
class VersionAlreadyApplied extends Error {}

/** Thrown inside the append transaction to roll back the seq bump when an idempotency key matched. */
class IdempotentReplay extends Error {
  constructor(readonly eventId: string) {
    super('idempotent replay');
  }
}

const now = () => new Date().toISOString();
/** The lock under which the first signing key is created (PostgreSQL's migrations use 0x5d6d16). */
const SIGNING_KEY_LOCK = 0x5d_6d_17;

function toEvent(row: Selectable<EventsTable>): StoredEvent {
  return {
    seq: Number(row.seq),
    id: row.id,
    type: row.type as StoredEvent['type'],
    channel: row.channel,
    signalId: row.signal_id,
    author: row.author,
    createdAt: row.created_at,
    data: JSON.parse(row.data) as never,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function toUser(row: Selectable<Database['users']>): UserRecord {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role as Role,
    passwordHash: row.password_hash,
    disabledAt: row.disabled_at,
    createdAt: row.created_at,
    deliveredSeq: Number(row.delivered_seq),
    readSeq: Number(row.read_seq),
  };
}

function userRow(user: NewUser): Selectable<Database['users']> {
  return {
    id: uuidv7(),
    email: user.email,
    name: user.name,
    role: user.role,
    password_hash: user.passwordHash,
    disabled_at: null,
    created_at: now(),
    delivered_seq: 0,
    read_seq: 0,
  };
}

function toChannel(row: Selectable<Database['channels']>): ChannelRecord {
  return { slug: row.slug, name: row.name, description: row.description, createdAt: row.created_at };
}

export class SqlStore implements Store {
  readonly kind: string;
  readonly sharedByNodes: boolean;
  readonly destinations: SqlDestinations;
  readonly sources: SqlSources;
  readonly tokens: SqlTokens;
  readonly mirrors: SqlMirrors;
  private readonly hot: HotQueries;

  constructor(
    readonly db: Db,
    private readonly backend: Backend,
  ) {
    this.kind = backend.kind;
    this.sharedByNodes = backend.sharedByNodes;
    this.destinations = new SqlDestinations(db);
    this.sources = new SqlSources(db);
    this.tokens = new SqlTokens(db);
    this.mirrors = new SqlMirrors(db);
    this.hot = hotQueries(db);
  }

  async migrate(): Promise<number> {
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`.execute(
      this.db,
    );
    const row = await this.db
      .selectFrom('schema_migrations')
      .select((eb) => eb.fn.max('version').as('v'))
      .executeTakeFirst();
    const current = Number(row?.v ?? 0);
    let applied = 0;
    for (let version = current + 1; version <= this.backend.migrations.length; version++) {
      const statements = this.backend.migrations[version - 1] ?? [];
      try {
        await this.db.transaction().execute(async (trx) => {
          // Recording the version first takes the write lock, and fails if another process
          // (a second node, the CLI) applied this version since we looked: then it is done.
          // Only that insert means so; a migration statement's own failure is rethrown.
          await trx
            .insertInto('schema_migrations')
            .values({ version, applied_at: now() })
            .execute()
            .catch((error: unknown) => {
              throw isUniqueViolation(error) ? new VersionAlreadyApplied() : error;
            });
          for (const statement of statements) await sql.raw(statement).execute(trx);
        });
        applied++;
      } catch (error) {
        if (!(error instanceof VersionAlreadyApplied)) throw error;
      }
    }
    return applied;
  }

  async close(): Promise<void> {
    await this.db.destroy();
    await this.backend.close();
  }

  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }

  sizes(): Promise<{ databaseBytes: number; walBytes: number | null }> {
    return this.backend.sizes(this.db);
  }

  // ---------------------------------------------------------------- the log

  async append(draft: EventDraft, options: AppendOptions = {}): Promise<AppendResult> {
    try {
      if (!this.backend.groupCommit) return await this.transaction(this.appendSteps(draft, options));
      return await new Promise<AppendResult>((resolve, reject) => {
        this.queued.push({ draft, options, resolve, reject });
        if (this.queued.length === 1) setImmediate(() => void this.commitQueued());
      });
    } catch (error) {
      if (!(error instanceof IdempotentReplay)) throw error;
      const [event] = await this.db.selectFrom('events').selectAll().where('id', '=', error.eventId).execute();
      const signal = event && (await this.getSignal(event.signal_id));
      if (!event || !signal) throw new Error(`idempotency key points at missing event ${error.eventId}`);
      return { event: toEvent(event), signal, replayed: true };
    }
  }

  /** Appends waiting for the group commit scheduled for the end of this event-loop turn. */
  private queued: QueuedAppend[] = [];

  /**
   * Commits every queued append in one transaction, in queue order. Each runs inside its
   * own savepoint, so one that fails (a guard, an idempotent replay) is rolled back alone —
   * its seq bump included, which keeps the log gap-free — and the others still commit.
   * Nobody is answered before the commit.
   */
  private async commitQueued(): Promise<void> {
    const batch = this.queued;
    this.queued = [];
    let outcomes: Outcome[];
    try {
      outcomes = await this.transaction(this.batchSteps(batch));
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if ('result' in outcome) item.resolve(outcome.result);
      else item.reject(outcome.error);
    });
  }

  /** Runs `steps` as one transaction: at once where the backend can, else statement by statement. */
  private transaction<T>(steps: Steps<T>): Promise<T> {
    if (this.backend.runTransaction) return this.backend.runTransaction(steps);
    return this.db.transaction().execute((trx) => runSteps(steps, trx));
  }

  /** The queued appends, in order, each inside its own savepoint when there are several. */
  private *batchSteps(batch: readonly QueuedAppend[]): Steps<Outcome[]> {
    if (batch.length === 1) return [{ result: yield* this.appendSteps(batch[0]!.draft, batch[0]!.options) }];
    const outcomes: Outcome[] = [];
    for (const item of batch) {
      yield* ask(SAVEPOINT);
      try {
        outcomes.push({ result: yield* this.appendSteps(item.draft, item.options) });
      } catch (error) {
        try {
          yield* ask(ROLLBACK_TO_SAVEPOINT);
        } catch {
          // SQLite rolled the whole transaction back itself (a full disk, an I/O error):
          // there is no savepoint left, and the batch fails with what caused that.
          throw error;
        }
        outcomes.push({ error });
      }
      yield* ask(RELEASE_SAVEPOINT);
    }
    return outcomes;
  }

  private *appendSteps(draft: EventDraft, options: AppendOptions): Steps<AppendResult> {
    // The first statement takes the log lock (a row lock on PostgreSQL, the write lock on
    // SQLite) and holds it to commit: this is what makes seq gap-free and commit-ordered.
    const bumped = yield* this.hot.bumpLogHead.step({});
    if (!bumped) throw new Error('log_head row is missing');
    const seq = Number(bumped.seq);

    const { idempotency } = options;
    if (idempotency) {
      const seen = yield* this.hot.idempotencyKey.step({ actorId: idempotency.actorId, key: idempotency.key });
      const current =
        seen && (idempotency.windowMs === undefined || Date.parse(seen.created_at) > Date.now() - idempotency.windowMs);
      if (seen && current) {
        if (seen.request_hash !== idempotency.requestHash) {
          throw conflict('idempotency_conflict', 'this idempotency key was already used for a different request');
        }
        throw new IdempotentReplay(seen.event_id);
      }
    }

    let current: SignalView | undefined;
    let channel: string;
    if (draft.type === 'signal.updated') {
      current = yield* this.signalSteps(draft.signalId);
      if (!current) throw notFound('signal');
      options.guard?.(current);
      channel = current.channel;
    } else {
      channel = draft.channel;
    }

    const head = yield* this.hot.channelHead.step({ channel });
    const id = uuidv7();
    const stamp = now();
    const base = {
      seq,
      id,
      type: draft.type,
      channel,
      signalId: draft.type === 'signal.updated' ? draft.signalId : id,
      author: draft.author,
      // Never earlier than the channel's previous event, even if the clock stepped back.
      createdAt: head && head.created_at > stamp ? head.created_at : stamp,
      data: draft.data,
      prevHash: head?.hash ?? GENESIS_HASH,
    } as Omit<StoredEvent, 'hash'>;
    const event = { ...base, hash: eventHash(base) } as StoredEvent;

    const signal = yield* this.writeEventSteps(event, current);
    if (idempotency) {
      yield* this.hot.insertIdempotencyKey.step({
        actor_id: idempotency.actorId,
        key: idempotency.key,
        request_hash: idempotency.requestHash,
        event_id: id,
        created_at: stamp,
      });
    }
    return { event, signal, replayed: false };
  }

  /** Inserts the event, moves its channel head and updates the derived signal row. */
  private *writeEventSteps(event: StoredEvent, current: SignalView | undefined): Steps<SignalView> {
    yield* this.hot.insertEvent.step({
      seq: event.seq,
      id: event.id,
      channel: event.channel,
      type: event.type,
      signal_id: event.signalId,
      author: event.author,
      created_at: event.createdAt,
      data: JSON.stringify(event.data),
      prev_hash: event.prevHash,
      hash: event.hash,
    });
    yield* this.hot.moveChannelHead.step({
      channel: event.channel,
      seq: event.seq,
      hash: event.hash,
      createdAt: event.createdAt,
    });

    if (event.type === 'signal.created') {
      const view = initialView(event as SignalCreatedEvent);
      yield* this.hot.insertSignal.step({
        id: view.id,
        seq: view.seq,
        last_seq: view.lastSeq,
        channel: view.channel,
        symbol: view.symbol,
        market: view.market,
        side: view.side,
        status: view.status,
        search: searchText(view),
        created_at: view.createdAt,
        updated_at: view.updatedAt,
        view: JSON.stringify(view),
      });
      return view;
    }
    const before = current ?? (yield* this.signalSteps(event.signalId));
    if (!before) throw notFound('signal');
    const view = applyUpdate(before, event as SignalUpdatedEvent);
    yield* this.hot.updateSignal.step({
      id: view.id,
      lastSeq: view.lastSeq,
      status: view.status,
      updatedAt: view.updatedAt,
      view: JSON.stringify(view),
    });
    return view;
  }

  async headSeq(): Promise<number> {
    const row = await this.db.selectFrom('log_head').select('seq').where('id', '=', 1).executeTakeFirstOrThrow();
    return Number(row.seq);
  }

  async readEvents(query: EventsQuery): Promise<StoredEvent[]> {
    if (query.channels !== 'all' && query.channels.length === 0) return [];
    let q = this.db.selectFrom('events').selectAll().where('seq', '>', query.after);
    if (query.upTo !== undefined) q = q.where('seq', '<=', query.upTo);
    if (query.channels !== 'all') q = q.where('channel', 'in', query.channels);
    const rows = await q.orderBy('seq').limit(query.limit).execute();
    return rows.map(toEvent);
  }

  async countEvents(query: { after: number; channels: ChannelScope; cap: number }): Promise<number> {
    if (query.channels !== 'all' && query.channels.length === 0) return 0;
    let inner = this.db.selectFrom('events').select('seq').where('seq', '>', query.after);
    if (query.channels !== 'all') inner = inner.where('channel', 'in', query.channels);
    const row = await this.db
      .selectFrom(inner.limit(query.cap).as('capped'))
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async eventsOfSignal(signalId: string): Promise<StoredEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where('signal_id', '=', signalId)
      .orderBy('seq')
      .execute();
    return rows.map(toEvent);
  }

  async channelHeads(): Promise<ChannelHead[]> {
    const rows = await this.db.selectFrom('channel_heads').selectAll().orderBy('channel').execute();
    return rows.map((r) => ({ channel: r.channel, seq: Number(r.seq), hash: r.hash, createdAt: r.created_at }));
  }

  async importEvents(events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      const { seq: head } = await trx
        .updateTable('log_head')
        .set((eb) => ({ seq: eb('seq', '+', 0) }))
        .where('id', '=', 1)
        .returning('seq')
        .executeTakeFirstOrThrow();
      let expected = Number(head) + 1;
      for (const event of events) {
        if (event.seq !== expected) {
          throw new AppError(
            409,
            'import_out_of_order',
            `event ${event.id} has seq ${event.seq}, expected ${expected}`,
          );
        }
        const tip = await trx
          .selectFrom('channel_heads')
          .select('hash')
          .where('channel', '=', event.channel)
          .executeTakeFirst();
        if (event.prevHash !== (tip?.hash ?? GENESIS_HASH)) {
          throw new AppError(
            409,
            'import_chain_mismatch',
            `event seq ${event.seq} does not extend channel ${event.channel}`,
          );
        }
        const channel = await trx
          .selectFrom('channels')
          .select('slug')
          .where('slug', '=', event.channel)
          .executeTakeFirst();
        if (!channel) {
          await trx
            .insertInto('channels')
            .values({ slug: event.channel, name: event.channel, description: null, created_at: event.createdAt })
            .execute();
        }
        await runSteps(this.writeEventSteps(event, undefined), trx);
        expected++;
      }
      await trx
        .updateTable('log_head')
        .set({ seq: expected - 1 })
        .where('id', '=', 1)
        .execute();
    });
  }

  // ---------------------------------------------------------------- signals

  private *signalSteps(id: string): Steps<SignalView | undefined> {
    const row = yield* this.hot.signalView.step({ id });
    return row ? (JSON.parse(row.view) as SignalView) : undefined;
  }

  getSignal(id: string): Promise<SignalView | undefined> {
    return runSteps(this.signalSteps(id), this.db);
  }

  async derivedSignals(afterSeq: number, limit: number): Promise<DerivedSignalRow[]> {
    const rows = await this.db
      .selectFrom('signals')
      .selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      view: JSON.parse(row.view) as SignalView,
      columns: {
        id: row.id,
        seq: Number(row.seq),
        lastSeq: Number(row.last_seq),
        channel: row.channel,
        symbol: row.symbol,
        market: row.market,
        side: row.side,
        status: row.status,
        search: row.search,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      },
    }));
  }

  async eventsOfSignals(signalIds: readonly string[]): Promise<StoredEvent[]> {
    if (signalIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where('signal_id', 'in', signalIds)
      .orderBy('seq')
      .execute();
    return rows.map(toEvent);
  }

  async listSignals(query: SignalListQuery, channels: ChannelScope): Promise<SignalView[]> {
    if (channels !== 'all' && channels.length === 0) return [];
    let q = this.db.selectFrom('signals').select('view');
    if (channels !== 'all') q = q.where('channel', 'in', channels);
    if (query.channel) q = q.where('channel', '=', query.channel);
    if (query.market) q = q.where('market', '=', query.market);
    if (query.symbol) q = q.where('symbol', '=', query.symbol.toUpperCase());
    if (query.side) q = q.where('side', '=', query.side);
    if (query.status) q = q.where('status', '=', query.status);
    if (query.q) {
      const text = query.q.toLowerCase();
      q = q.where(this.backend.searchCondition?.(text) ?? likeSubstring(text));
    }
    if (query.before) q = q.where('seq', '<', query.before);
    const rows = await q.orderBy('seq', 'desc').limit(query.limit).execute();
    return rows.map((r) => JSON.parse(r.view) as SignalView);
  }

  // ---------------------------------------------------------------- accounts

  async createUser(user: NewUser): Promise<UserRecord> {
    const row = userRow(user);
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('email_taken', 'a user with this email already exists');
      throw error;
    }
    return toUser(row);
  }

  async completeSetup(code: string, user: NewUser): Promise<UserRecord> {
    const row = userRow(user);
    await this.db.transaction().execute(async (trx) => {
      // Consuming the code first makes setup single-use: of concurrent requests, one deletes it.
      const consumed = await trx
        .deleteFrom('settings')
        .where('key', '=', SETUP_CODE_SETTING)
        .where('value', '=', code)
        .returning('key')
        .executeTakeFirst();
      const done = await trx
        .selectFrom('settings')
        .select('key')
        .where('key', '=', SETUP_DONE_SETTING)
        .executeTakeFirst();
      const admins = await trx.selectFrom('users').select('id').where('role', '=', 'admin').limit(1).executeTakeFirst();
      if (done || admins) throw conflict('setup_done', 'setup is complete: an admin already exists');
      if (!consumed) {
        throw new AppError(403, 'setup_code_invalid', "the setup code is wrong: paste the code from the server's log");
      }
      await trx.insertInto('settings').values({ key: SETUP_DONE_SETTING, value: row.id, updated_at: now() }).execute();
      await trx.insertInto('users').values(row).execute();
    });
    return toUser(row);
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const row = await this.hot.userById.first(this.db, { id });
    return row && toUser(row);
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', email.toLowerCase())
      .executeTakeFirst();
    return row && toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('created_at').execute();
    return rows.map(toUser);
  }

  async countAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('role', '=', 'admin')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async setUserDisabled(id: string, disabled: boolean): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ disabled_at: disabled ? now() : null })
      .where('id', '=', id)
      .execute();
  }

  async setUserName(id: string, name: string | null): Promise<void> {
    await this.db.updateTable('users').set({ name }).where('id', '=', id).execute();
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
  }

  async advancePositions(userId: string, positions: { delivered?: number; read?: number }): Promise<void> {
    const { delivered, read } = positions;
    if (delivered !== undefined) {
      await this.db
        .updateTable('users')
        .set({ delivered_seq: delivered })
        .where('id', '=', userId)
        .where('delivered_seq', '<', delivered)
        .execute();
    }
    if (read !== undefined) {
      await this.db
        .updateTable('users')
        .set({ read_seq: read })
        .where('id', '=', userId)
        .where('read_seq', '<', read)
        .execute();
    }
  }

  async createChannel(channel: { slug: string; name: string; description: string | null }): Promise<ChannelRecord> {
    const row = { ...channel, created_at: now() };
    try {
      await this.db.insertInto('channels').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('channel_exists', `channel ${channel.slug} already exists`);
      throw error;
    }
    return toChannel(row);
  }

  async listChannels(): Promise<ChannelRecord[]> {
    const rows = await this.db.selectFrom('channels').selectAll().orderBy('slug').execute();
    return rows.map(toChannel);
  }

  async getChannel(slug: string): Promise<ChannelRecord | undefined> {
    const row = await this.hot.channelBySlug.first(this.db, { slug });
    return row && toChannel(row);
  }

  async grant(userId: string, channel: string): Promise<boolean> {
    const result = await this.db
      .insertInto('grants')
      .values({ user_id: userId, channel, granted_at: now() })
      .onConflict((oc) => oc.columns(['user_id', 'channel']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async revoke(userId: string, channel: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('grants')
      .where('user_id', '=', userId)
      .where('channel', '=', channel)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async channelsOf(userId: string): Promise<string[]> {
    const { rows } = await this.hot.channelsOfUser.run(this.db, { userId });
    return rows.map((r) => r.channel);
  }

  async subscribersOf(channel: string): Promise<Array<{ id: string; deliveredSeq: number; readSeq: number }>> {
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'delivered_seq', 'read_seq'])
      .where('disabled_at', 'is', null)
      .where('role', '=', 'subscriber')
      .where('id', 'in', (eb) => eb.selectFrom('grants').select('user_id').where('channel', '=', channel))
      .execute();
    return rows.map((r) => ({ id: r.id, deliveredSeq: Number(r.delivered_seq), readSeq: Number(r.read_seq) }));
  }

  async createSession(session: { id: string; tokenHash: string; userId: string; expiresAt: string }): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        id: session.id,
        token_hash: session.tokenHash,
        user_id: session.userId,
        created_at: now(),
        expires_at: session.expiresAt,
        revoked_at: null,
      })
      .execute();
  }

  async findSession(tokenHash: string): Promise<SessionWithUser | undefined> {
    const row = await this.hot.sessionWithUser.first(this.db, { tokenHash });
    return (
      row && {
        id: row.session_id,
        userId: row.id,
        createdAt: row.session_created_at,
        expiresAt: row.expires_at,
        revokedAt: row.revoked_at,
        user: toUser(row),
      }
    );
  }

  async liveSessionIds(userId: string): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now())
      .execute();
    return new Set(rows.map((r) => r.id));
  }

  async revokeSession(id: string): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ revoked_at: now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
  }

  async revokeUserSessions(userId: string, exceptSessionId?: string): Promise<void> {
    let q = this.db
      .updateTable('sessions')
      .set({ revoked_at: now() })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null);
    if (exceptSessionId !== undefined) q = q.where('id', '!=', exceptSessionId);
    await q.execute();
  }

  async hitThrottle(key: string, now: number, windowMs: number): Promise<ThrottleState> {
    const locked = sql<boolean>`login_throttle.locked_until > ${now}`;
    const expired = sql<boolean>`login_throttle.window_start + ${windowMs} <= ${now}`;
    const row = await this.db
      .insertInto('login_throttle')
      .values({ key, failures: 1, window_start: now, locked_until: 0, strikes: 0 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql<number>`CASE WHEN ${locked} THEN login_throttle.failures WHEN ${expired} THEN 1
            ELSE login_throttle.failures + 1 END`,
          window_start: sql<number>`CASE WHEN ${locked} THEN login_throttle.window_start WHEN ${expired} THEN ${now}
            ELSE login_throttle.window_start END`,
        }),
      )
      .returning(['failures', 'window_start', 'locked_until', 'strikes'])
      .executeTakeFirstOrThrow();
    return {
      attempts: Number(row.failures),
      windowStart: Number(row.window_start),
      lockedUntil: Number(row.locked_until),
      strikes: Number(row.strikes),
    };
  }

  async lockThrottle(key: string, now: number, until: number): Promise<void> {
    await this.db
      .updateTable('login_throttle')
      .set((eb) => ({ locked_until: until, window_start: until, failures: 0, strikes: eb('strikes', '+', 1) }))
      .where('key', '=', key)
      .where('locked_until', '<=', now)
      .execute();
  }

  async forgiveThrottle(key: string): Promise<void> {
    await this.db
      .updateTable('login_throttle')
      .set((eb) => ({ failures: eb('failures', '-', 1) }))
      .where('key', '=', key)
      .where('failures', '>', 0)
      .execute();
  }

  async clearThrottle(key: string): Promise<void> {
    await this.db.deleteFrom('login_throttle').where('key', '=', key).execute();
  }

  async purgeThrottles(before: number, now: number): Promise<number> {
    const result = await this.db
      .deleteFrom('login_throttle')
      .where('window_start', '<', before)
      .where('locked_until', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // ---------------------------------------------------------------- settings

  async getSetting(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  async ensureSetting(key: string, value: string): Promise<string> {
    await this.db
      .insertInto('settings')
      .values({ key, value, updated_at: now() })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const stored = await this.getSetting(key);
    if (stored === undefined) throw new Error(`setting ${key} was stored but cannot be read back`);
    return stored;
  }

  async putSetting(key: string, value: string): Promise<void> {
    const stamp = now();
    await this.db
      .insertInto('settings')
      .values({ key, value, updated_at: stamp })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: stamp }))
      .execute();
  }

  async deleteSetting(key: string): Promise<void> {
    await this.db.deleteFrom('settings').where('key', '=', key).execute();
  }

  // ---------------------------------------------------------------- moving an installation

  async exportState(): Promise<InstallationState> {
    const state = {} as Record<StateTable, unknown[]>;
    for (const table of TABLES.state) state[table] = await this.db.selectFrom(table).selectAll().execute();
    return state as InstallationState;
  }

  async importState(state: InstallationState): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // In TABLES.state order: users before the grants and sessions that name them.
      for (const table of TABLES.state) {
        const rows = state[table] as Array<Record<string, unknown>>;
        for (let i = 0; i < rows.length; i += 500) {
          await trx
            .insertInto(table)
            .values(rows.slice(i, i + 500) as never)
            .execute();
        }
      }
    });
  }

  // ---------------------------------------------------------------- signing keys

  async signingKey(): Promise<SigningKeyRecord | undefined> {
    const row = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('retired_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row && toSigningKey(row);
  }

  async signingKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toSigningKey);
  }

  async addSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({
        id: key.id,
        algorithm: key.algorithm,
        public_key: key.publicKey,
        private_key: key.privateKey,
        created_at: key.createdAt,
        retired_at: key.retiredAt,
      })
      .execute();
  }

  async claimSigningKey(key: SigningKeyRecord): Promise<SigningKeyRecord> {
    const insert = (db: Kysely<Database>) =>
      sql`INSERT INTO signing_keys (id, algorithm, public_key, private_key, created_at, retired_at)
        SELECT ${key.id}, ${key.algorithm}, ${key.publicKey}, ${key.privateKey}, ${key.createdAt}, ${key.retiredAt}
        WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)`.execute(db);
    // Two nodes may both find no key at once: the check and the insert must not interleave.
    await (this.backend.exclusively?.(this.db, SIGNING_KEY_LOCK, insert) ?? insert(this.db));
    const active = await this.signingKey();
    if (!active) throw new Error('no active signing key after claiming one');
    return active;
  }

  async retireSigningKey(id: string, at: string): Promise<void> {
    await this.db
      .updateTable('signing_keys')
      .set({ retired_at: at })
      .where('id', '=', id)
      .where('retired_at', 'is', null)
      .execute();
  }

  async forgetPrivateKey(id: string): Promise<void> {
    await this.db.updateTable('signing_keys').set({ private_key: null }).where('id', '=', id).execute();
  }
}

function toSigningKey(row: Selectable<Database['signing_keys']>): SigningKeyRecord {
  return {
    id: row.id,
    algorithm: row.algorithm,
    publicKey: row.public_key,
    privateKey: row.private_key,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
  };
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
