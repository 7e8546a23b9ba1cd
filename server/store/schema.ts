/** Table shapes as both SQL backends store them (snake_case columns, text JSON, ISO times). */
export interface EventsTable {
  seq: number;
  id: string;
  channel: string;
  type: string;
  signal_id: string;
  author: string;
  created_at: string;
  data: string;
  prev_hash: string;
  hash: string;
}

export interface Database {
  log_head: { id: number; seq: number };
  events: EventsTable;
  channel_heads: { channel: string; seq: number; hash: string; created_at: string };
  signals: {
    id: string;
    seq: number;
    last_seq: number;
    channel: string;
    symbol: string;
    market: string;
    side: string;
    status: string;
    search: string;
    created_at: string;
    updated_at: string;
    view: string;
  };
  users: {
    id: string;
    email: string;
    name: string | null;
    role: string;
    password_hash: string;
    disabled_at: string | null;
    created_at: string;
    delivered_seq: number;
    read_seq: number;
  };
  channels: { slug: string; name: string; description: string | null; created_at: string };
  grants: { user_id: string; channel: string; granted_at: string };
  sessions: {
    id: string;
    token_hash: string;
    user_id: string;
    created_at: string;
    expires_at: string;
    revoked_at: string | null;
  };
  login_throttle: { key: string; failures: number; window_start: number; locked_until: number; strikes: number };
  idempotency_keys: { actor_id: string; key: string; request_hash: string; event_id: string; created_at: string };
  schema_migrations: { version: number; applied_at: string };
  signing_keys: {
    id: string;
    algorithm: string;
    public_key: string;
    private_key: string | null;
    created_at: string;
    retired_at: string | null;
  };
  settings: { key: string; value: string; updated_at: string };
}
