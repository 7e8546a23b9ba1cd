/**
 * The statements every publish and every authenticated request run, compiled once per store
 * (see prepared-query.ts). Everything else is built per call.
 */
import type { Kysely, Selectable } from 'kysely';
import { PreparedQuery } from './prepared-query.js';
import type { Database } from './schema.js';

export type HotQueries = ReturnType<typeof hotQueries>;

export function hotQueries(db: Kysely<Database>) {
  return {
    // Authentication
    // The user's columns keep their names; the session's are prefixed.
    sessionWithUser: new PreparedQuery<
      { tokenHash: string },
      Selectable<Database['users']> & {
        session_id: string;
        session_created_at: string;
        expires_at: string;
        revoked_at: string | null;
      }
    >((p) =>
      db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .selectAll('users')
        .select([
          'sessions.id as session_id',
          'sessions.created_at as session_created_at',
          'sessions.expires_at',
          'sessions.revoked_at',
        ])
        .where('sessions.token_hash', '=', p('tokenHash')),
    ),
    userById: new PreparedQuery<{ id: string }, Selectable<Database['users']>>((p) =>
      db.selectFrom('users').selectAll().where('id', '=', p('id')),
    ),
    channelsOfUser: new PreparedQuery<{ userId: string }, { channel: string }>((p) =>
      db.selectFrom('grants').select('channel').where('user_id', '=', p('userId')).orderBy('channel'),
    ),
    channelBySlug: new PreparedQuery<{ slug: string }, Selectable<Database['channels']>>((p) =>
      db.selectFrom('channels').selectAll().where('slug', '=', p('slug')),
    ),

    // Appending
    bumpLogHead: new PreparedQuery<object, { seq: number | string }>(() =>
      db
        .updateTable('log_head')
        .set((eb) => ({ seq: eb('seq', '+', 1) }))
        .where('id', '=', 1)
        .returning('seq'),
    ),
    idempotencyKey: new PreparedQuery<
      { actorId: string; key: string },
      { request_hash: string; event_id: string; created_at: string }
    >((p) =>
      db
        .selectFrom('idempotency_keys')
        .select(['request_hash', 'event_id', 'created_at'])
        .where('actor_id', '=', p('actorId'))
        .where('key', '=', p('key')),
    ),
    channelHead: new PreparedQuery<{ channel: string }, { hash: string; created_at: string }>((p) =>
      db.selectFrom('channel_heads').select(['hash', 'created_at']).where('channel', '=', p('channel')),
    ),
    insertEvent: new PreparedQuery<Database['events'], never>((p) =>
      db.insertInto('events').values({
        seq: p('seq'),
        id: p('id'),
        channel: p('channel'),
        type: p('type'),
        signal_id: p('signal_id'),
        author: p('author'),
        created_at: p('created_at'),
        data: p('data'),
        prev_hash: p('prev_hash'),
        hash: p('hash'),
      }),
    ),
    moveChannelHead: new PreparedQuery<{ channel: string; seq: number; hash: string; createdAt: string }, never>((p) =>
      db
        .insertInto('channel_heads')
        .values({ channel: p('channel'), seq: p('seq'), hash: p('hash'), created_at: p('createdAt') })
        .onConflict((oc) =>
          oc.column('channel').doUpdateSet({ seq: p('seq'), hash: p('hash'), created_at: p('createdAt') }),
        ),
    ),
    insertSignal: new PreparedQuery<Database['signals'], never>((p) =>
      db.insertInto('signals').values({
        id: p('id'),
        seq: p('seq'),
        last_seq: p('last_seq'),
        channel: p('channel'),
        symbol: p('symbol'),
        market: p('market'),
        side: p('side'),
        status: p('status'),
        search: p('search'),
        created_at: p('created_at'),
        updated_at: p('updated_at'),
        view: p('view'),
      }),
    ),
    signalView: new PreparedQuery<{ id: string }, { view: string }>((p) =>
      db.selectFrom('signals').select('view').where('id', '=', p('id')),
    ),
    updateSignal: new PreparedQuery<
      { id: string; lastSeq: number; status: string; updatedAt: string; view: string },
      never
    >((p) =>
      db
        .updateTable('signals')
        .set({ last_seq: p('lastSeq'), status: p('status'), updated_at: p('updatedAt'), view: p('view') })
        .where('id', '=', p('id')),
    ),
    // An upsert: a key whose window ended (see AppendOptions.idempotency) is taken over.
    insertIdempotencyKey: new PreparedQuery<Database['idempotency_keys'], never>((p) =>
      db
        .insertInto('idempotency_keys')
        .values({
          actor_id: p('actor_id'),
          key: p('key'),
          request_hash: p('request_hash'),
          event_id: p('event_id'),
          created_at: p('created_at'),
        })
        .onConflict((oc) =>
          oc.columns(['actor_id', 'key']).doUpdateSet({
            request_hash: p('request_hash'),
            event_id: p('event_id'),
            created_at: p('created_at'),
          }),
        ),
    ),
  };
}
