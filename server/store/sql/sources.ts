/** Sources, API tokens and channel mirrors over Kysely, for both SQL backends (see integrations.ts). */
import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type {
  ApiTokenRecord,
  MirrorRecord,
  MirrorStore,
  NewSource,
  SourcePatch,
  SourceRecord,
  SourceRequest,
  SourceStore,
  TokenStore,
} from '../integrations.js';
import type { Database } from '../schema.js';

const now = () => new Date().toISOString();

function toSource(row: Selectable<Database['sources']>): SourceRecord {
  return {
    id: row.id,
    kind: row.kind as SourceRecord['kind'],
    name: row.name,
    channel: row.channel,
    label: row.label,
    market: row.market,
    allowedIps: row.allowed_ips === null ? null : (JSON.parse(row.allowed_ips) as string[]),
    ratePerMinute: Number(row.rate_per_minute),
    enabled: Number(row.enabled) === 1,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    rotatedAt: row.rotated_at,
  };
}

function toRequest(row: Selectable<Database['source_requests']>): SourceRequest {
  return {
    id: Number(row.id),
    sourceId: row.source_id,
    at: row.at,
    address: row.address,
    contentType: row.content_type,
    body: row.body,
    status: Number(row.status),
    outcome: row.outcome as SourceRequest['outcome'],
    reasons: row.reasons === null ? null : (JSON.parse(row.reasons) as Record<string, string>),
    eventId: row.event_id,
  };
}

export class SqlSources implements SourceStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(source: NewSource): Promise<SourceRecord> {
    const stamp = now();
    const row: Selectable<Database['sources']> = {
      id: uuidv7(),
      kind: source.kind,
      name: source.name,
      channel: source.channel,
      label: source.label,
      market: source.market,
      secret_hash: source.secretHash,
      allowed_ips: source.allowedIps === null ? null : JSON.stringify(source.allowedIps),
      rate_per_minute: source.ratePerMinute,
      enabled: source.enabled ? 1 : 0,
      created_by: source.createdBy,
      created_at: stamp,
      updated_at: stamp,
      rotated_at: null,
    };
    await this.db.insertInto('sources').values(row).execute();
    return toSource(row);
  }

  async get(id: string): Promise<SourceRecord | undefined> {
    const row = await this.db.selectFrom('sources').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSource(row);
  }

  async bySecretHash(secretHash: string): Promise<SourceRecord | undefined> {
    const row = await this.db
      .selectFrom('sources')
      .selectAll()
      .where('secret_hash', '=', secretHash)
      .executeTakeFirst();
    return row && toSource(row);
  }

  async list(): Promise<SourceRecord[]> {
    return (await this.db.selectFrom('sources').selectAll().orderBy('created_at').orderBy('id').execute()).map(
      toSource,
    );
  }

  async update(id: string, patch: SourcePatch): Promise<SourceRecord | undefined> {
    const set: Updateable<Database['sources']> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.label !== undefined) set.label = patch.label;
    if (patch.market !== undefined) set.market = patch.market;
    if (patch.allowedIps !== undefined)
      set.allowed_ips = patch.allowedIps === null ? null : JSON.stringify(patch.allowedIps);
    if (patch.ratePerMinute !== undefined) set.rate_per_minute = patch.ratePerMinute;
    if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
    if (Object.keys(set).length > 0) {
      await this.db
        .updateTable('sources')
        .set({ ...set, updated_at: now() })
        .where('id', '=', id)
        .execute();
    }
    return this.get(id);
  }

  async rotate(id: string, secretHash: string): Promise<SourceRecord | undefined> {
    const stamp = now();
    await this.db
      .updateTable('sources')
      .set({ secret_hash: secretHash, rotated_at: stamp, updated_at: stamp })
      .where('id', '=', id)
      .execute();
    return this.get(id);
  }

  async logRequest(request: Omit<SourceRequest, 'id'>): Promise<void> {
    await this.db
      .insertInto('source_requests')
      .values({
        source_id: request.sourceId,
        at: request.at,
        address: request.address,
        content_type: request.contentType,
        body: request.body,
        status: request.status,
        outcome: request.outcome,
        reasons: request.reasons === null ? null : JSON.stringify(request.reasons),
        event_id: request.eventId,
      })
      .execute();
  }

  async requests(sourceId: string, limit: number): Promise<SourceRequest[]> {
    const rows = await this.db
      .selectFrom('source_requests')
      .selectAll()
      .where('source_id', '=', sourceId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toRequest);
  }

  async trimRequests(keep: number): Promise<number> {
    const result = await sql`
      DELETE FROM source_requests WHERE id IN (
        SELECT id FROM (
          SELECT id, ROW_NUMBER() OVER (PARTITION BY source_id ORDER BY id DESC) AS n FROM source_requests
        ) ranked WHERE n > ${keep}
      )`.execute(this.db);
    return Number(result.numAffectedRows ?? 0);
  }
}

function toToken(row: Selectable<Database['api_tokens']>): ApiTokenRecord {
  return {
    id: row.id,
    name: row.name,
    channels: JSON.parse(row.channels) as string[],
    createdBy: row.created_by,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export class SqlTokens implements TokenStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(token: {
    name: string;
    tokenHash: string;
    channels: string[];
    createdBy: string | null;
  }): Promise<ApiTokenRecord> {
    const row: Selectable<Database['api_tokens']> = {
      id: uuidv7(),
      name: token.name,
      token_hash: token.tokenHash,
      channels: JSON.stringify(token.channels),
      created_by: token.createdBy,
      created_at: now(),
      last_used_at: null,
      revoked_at: null,
    };
    await this.db.insertInto('api_tokens').values(row).execute();
    return toToken(row);
  }

  async byHash(tokenHash: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row && toToken(row);
  }

  async list(): Promise<ApiTokenRecord[]> {
    return (await this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute()).map(
      toToken,
    );
  }

  async revoke(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async touch(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}

function toMirror(row: Selectable<Database['channel_mirrors']>): MirrorRecord {
  return {
    channel: row.channel,
    origin: row.origin,
    delaySeconds: Number(row.delay_seconds),
    fromSeq: Number(row.from_seq),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class SqlMirrors implements MirrorStore {
  constructor(private readonly db: Kysely<Database>) {}

  async put(mirror: Pick<MirrorRecord, 'channel' | 'origin' | 'delaySeconds' | 'fromSeq'>): Promise<MirrorRecord> {
    const stamp = now();
    await this.db
      .insertInto('channel_mirrors')
      .values({
        channel: mirror.channel,
        origin: mirror.origin,
        delay_seconds: mirror.delaySeconds,
        from_seq: mirror.fromSeq,
        created_at: stamp,
        updated_at: stamp,
      })
      // A new delay for the same origin keeps where releasing started; a new origin starts afresh.
      .onConflict((oc) =>
        oc.column('channel').doUpdateSet((eb) => ({
          delay_seconds: mirror.delaySeconds,
          from_seq: eb
            .case()
            .when('channel_mirrors.origin', '=', mirror.origin)
            .then(eb.ref('channel_mirrors.from_seq'))
            .else(mirror.fromSeq)
            .end(),
          origin: mirror.origin,
          updated_at: stamp,
        })),
      )
      .execute();
    const row = await this.db
      .selectFrom('channel_mirrors')
      .selectAll()
      .where('channel', '=', mirror.channel)
      .executeTakeFirstOrThrow();
    return toMirror(row);
  }

  async list(): Promise<MirrorRecord[]> {
    return (await this.db.selectFrom('channel_mirrors').selectAll().orderBy('channel').execute()).map(toMirror);
  }

  async remove(channel: string): Promise<boolean> {
    const result = await this.db.deleteFrom('channel_mirrors').where('channel', '=', channel).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
