/** Destinations over Kysely, for both SQL backends (see integrations.ts for what each method guarantees). */
import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { DestinationKind } from '../../delivery/adapter.js';
import type {
  DeliveryAttempt,
  DeliveryStatePatch,
  DestinationPatch,
  DestinationRecord,
  DestinationState,
  DestinationStore,
  NewDestination,
} from '../integrations.js';
import type { Database } from '../schema.js';

type Row = Selectable<Database['destinations']>;

function toRecord(row: Row): DestinationRecord {
  return {
    id: row.id,
    kind: row.kind as DestinationKind,
    name: row.name,
    config: JSON.parse(row.config) as Record<string, unknown>,
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretUntil: row.previous_secret_until,
    ownerId: row.owner_id,
    channels: JSON.parse(row.channels) as string[],
    enabled: Number(row.enabled) === 1,
    deliveredSeq: Number(row.delivered_seq),
    state: row.state as DestinationState,
    attempts: Number(row.attempts),
    failingSince: row.failing_since,
    nextAttemptAt: row.next_attempt_at === null ? null : Number(row.next_attempt_at),
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    lastError: row.last_error,
    lastSuccessAt: row.last_success_at,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until === null ? null : Number(row.lease_until),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function stateColumns(patch: DeliveryStatePatch): Updateable<Database['destinations']> {
  const out: Updateable<Database['destinations']> = {};
  if (patch.state !== undefined) out.state = patch.state;
  if (patch.attempts !== undefined) out.attempts = patch.attempts;
  if (patch.failingSince !== undefined) out.failing_since = patch.failingSince;
  if (patch.nextAttemptAt !== undefined) out.next_attempt_at = patch.nextAttemptAt;
  if (patch.lastStatus !== undefined) out.last_status = patch.lastStatus;
  if (patch.lastError !== undefined) out.last_error = patch.lastError;
  if (patch.lastSuccessAt !== undefined) out.last_success_at = patch.lastSuccessAt;
  return out;
}

function patchColumns(patch: DestinationPatch): Updateable<Database['destinations']> {
  const out = stateColumns(patch);
  if (patch.name !== undefined) out.name = patch.name;
  if (patch.config !== undefined) out.config = JSON.stringify(patch.config);
  if (patch.channels !== undefined) out.channels = JSON.stringify(patch.channels);
  if (patch.enabled !== undefined) out.enabled = patch.enabled ? 1 : 0;
  if (patch.secret !== undefined) out.secret = patch.secret;
  if (patch.previousSecret !== undefined) out.previous_secret = patch.previousSecret;
  if (patch.previousSecretUntil !== undefined) out.previous_secret_until = patch.previousSecretUntil;
  return out;
}

function toAttempt(row: Selectable<Database['delivery_attempts']>): DeliveryAttempt {
  return {
    id: Number(row.id),
    destinationId: row.destination_id,
    seq: Number(row.seq),
    eventId: row.event_id,
    attempt: Number(row.attempt),
    at: row.at,
    status: row.status === null ? null : Number(row.status),
    outcome: row.outcome as DeliveryAttempt['outcome'],
    error: row.error,
    durationMs: Number(row.duration_ms),
  };
}

export class SqlDestinations implements DestinationStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(destination: NewDestination): Promise<DestinationRecord> {
    const now = new Date().toISOString();
    const row: Row = {
      id: uuidv7(),
      kind: destination.kind,
      name: destination.name,
      config: JSON.stringify(destination.config),
      secret: destination.secret,
      previous_secret: null,
      previous_secret_until: null,
      owner_id: destination.ownerId,
      channels: JSON.stringify(destination.channels),
      enabled: destination.enabled ? 1 : 0,
      delivered_seq: destination.deliveredSeq,
      state: 'active',
      attempts: 0,
      failing_since: null,
      next_attempt_at: null,
      last_status: null,
      last_error: null,
      last_success_at: null,
      lease_owner: null,
      lease_until: null,
      created_by: destination.createdBy,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('destinations').values(row).execute();
    return toRecord(row);
  }

  async get(id: string): Promise<DestinationRecord | undefined> {
    const row = await this.db.selectFrom('destinations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async list(filter: { ownerId: string | null; kinds?: readonly DestinationKind[] }): Promise<DestinationRecord[]> {
    let q = this.db.selectFrom('destinations').selectAll();
    q = filter.ownerId === null ? q.where('owner_id', 'is', null) : q.where('owner_id', '=', filter.ownerId);
    if (filter.kinds) q = q.where('kind', 'in', [...filter.kinds]);
    return (await q.orderBy('created_at').orderBy('id').execute()).map(toRecord);
  }

  async findPushByEndpoint(endpoint: string): Promise<DestinationRecord | undefined> {
    // Endpoints are unique among push destinations (an index on the JSON field): at most one row.
    const rows = await this.db.selectFrom('destinations').selectAll().where('kind', '=', 'push').execute();
    const row = rows.find((r) => (JSON.parse(r.config) as { endpoint?: string }).endpoint === endpoint);
    return row && toRecord(row);
  }

  async update(id: string, patch: DestinationPatch): Promise<DestinationRecord | undefined> {
    const columns = patchColumns(patch);
    if (Object.keys(columns).length > 0) {
      await this.db
        .updateTable('destinations')
        .set({ ...columns, updated_at: new Date().toISOString() })
        .where('id', '=', id)
        .execute();
    }
    return this.get(id);
  }

  async remove(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('destinations').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async claim(node: string, now: number, leaseMs: number): Promise<DestinationRecord[]> {
    const rows = await this.db
      .updateTable('destinations')
      .set({ lease_owner: node, lease_until: now + leaseMs })
      .where('enabled', '=', 1)
      .where('state', '!=', 'paused')
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', node), eb('lease_until', '<', now)]))
      .returningAll()
      .execute();
    return rows.map(toRecord);
  }

  async release(node: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('destinations')
      .set({ lease_owner: null, lease_until: null })
      .where('lease_owner', '=', node)
      .where('id', 'in', [...ids])
      .execute();
  }

  async advance(
    node: string,
    cursors: ReadonlyArray<{ id: string; seq: number } & DeliveryStatePatch>,
  ): Promise<string[]> {
    if (cursors.length === 0) return [];
    const lost: string[] = [];
    await this.db.transaction().execute(async (trx) => {
      for (const { id, seq, ...patch } of cursors) {
        const result = await trx
          .updateTable('destinations')
          .set({
            ...stateColumns(patch),
            delivered_seq: sql<number>`CASE WHEN delivered_seq < ${seq} THEN ${seq} ELSE delivered_seq END`,
          })
          .where('id', '=', id)
          .where('lease_owner', '=', node)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) lost.push(id);
      }
    });
    return lost;
  }

  async recordState(node: string, id: string, patch: DeliveryStatePatch): Promise<boolean> {
    const columns = stateColumns(patch);
    if (Object.keys(columns).length === 0) return true;
    const result = await this.db
      .updateTable('destinations')
      .set(columns)
      .where('id', '=', id)
      .where('lease_owner', '=', node)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async logAttempts(attempts: ReadonlyArray<Omit<DeliveryAttempt, 'id'>>): Promise<void> {
    if (attempts.length === 0) return;
    await this.db
      .insertInto('delivery_attempts')
      .values(
        attempts.map((a) => ({
          destination_id: a.destinationId,
          seq: a.seq,
          event_id: a.eventId,
          attempt: a.attempt,
          at: a.at,
          status: a.status,
          outcome: a.outcome,
          error: a.error,
          duration_ms: Math.round(a.durationMs),
        })),
      )
      .execute();
  }

  async attempts(
    destinationId: string,
    query: { seq?: number; before?: number; limit: number },
  ): Promise<DeliveryAttempt[]> {
    let q = this.db.selectFrom('delivery_attempts').selectAll().where('destination_id', '=', destinationId);
    if (query.seq !== undefined) q = q.where('seq', '=', query.seq);
    if (query.before !== undefined) q = q.where('id', '<', query.before);
    return (await q.orderBy('id', 'desc').limit(query.limit).execute()).map(toAttempt);
  }

  async trimAttempts(keep: number): Promise<number> {
    // Per destination, the id below which attempts are older than its newest `keep`.
    const result = await sql<{ n: number }>`
      DELETE FROM delivery_attempts WHERE id IN (
        SELECT id FROM (
          SELECT id, ROW_NUMBER() OVER (PARTITION BY destination_id ORDER BY id DESC) AS n FROM delivery_attempts
        ) ranked WHERE n > ${keep}
      )`.execute(this.db);
    return Number(result.numAffectedRows ?? 0);
  }
}
