/** Table shapes as both SQL backends store them (snake_case columns, text JSON, ISO times). */
import type { Generated } from 'kysely';

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
  destinations: {
    id: string;
    kind: string;
    name: string;
    /** JSON of the kind's settings (url, chat id, push subscription…). */
    config: string;
    secret: string | null;
    previous_secret: string | null;
    previous_secret_until: string | null;
    owner_id: string | null;
    /** JSON array of channel slugs. */
    channels: string;
    enabled: number;
    delivered_seq: number;
    state: string;
    attempts: number;
    failing_since: string | null;
    next_attempt_at: number | null;
    last_status: number | null;
    last_error: string | null;
    last_success_at: string | null;
    lease_owner: string | null;
    lease_until: number | null;
    created_by: string | null;
    created_at: string;
    updated_at: string;
  };
  delivery_attempts: {
    id: Generated<number>;
    destination_id: string;
    seq: number;
    event_id: string;
    attempt: number;
    at: string;
    status: number | null;
    outcome: string;
    error: string | null;
    duration_ms: number;
  };
  sources: {
    id: string;
    kind: string;
    name: string;
    channel: string;
    label: string | null;
    market: string | null;
    secret_hash: string;
    /** JSON array of addresses and CIDR ranges; null: any address. */
    allowed_ips: string | null;
    rate_per_minute: number;
    enabled: number;
    created_by: string | null;
    created_at: string;
    updated_at: string;
    rotated_at: string | null;
  };
  source_requests: {
    id: Generated<number>;
    source_id: string;
    at: string;
    address: string | null;
    content_type: string | null;
    body: string;
    status: number;
    outcome: string;
    /** JSON object of field → reason. */
    reasons: string | null;
    event_id: string | null;
  };
  api_tokens: {
    id: string;
    name: string;
    token_hash: string;
    channels: string;
    created_by: string | null;
    created_at: string;
    last_used_at: string | null;
    revoked_at: string | null;
  };
  channel_mirrors: {
    channel: string;
    origin: string;
    delay_seconds: number;
    from_seq: number;
    created_at: string;
    updated_at: string;
  };
}
