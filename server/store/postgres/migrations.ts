/** PostgreSQL schema, one entry per version; each entry's statements run in one transaction. */
export const postgresMigrations: readonly (readonly string[])[] = [
  [
    `CREATE TABLE log_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL)`,
    `INSERT INTO log_head (id, seq) VALUES (1, 0)`,
    `CREATE TABLE events (
      seq BIGINT PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      channel TEXT NOT NULL,
      type TEXT NOT NULL,
      signal_id TEXT NOT NULL,
      author TEXT NOT NULL,
      created_at TEXT NOT NULL,
      data TEXT NOT NULL,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL
    )`,
    `CREATE INDEX events_channel_seq ON events (channel, seq)`,
    `CREATE INDEX events_signal_seq ON events (signal_id, seq)`,
    `CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP USING ERRCODE = 'restrict_violation';
      END $$`,
    `CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
      FOR EACH ROW EXECUTE FUNCTION events_append_only()`,
    `CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()`,
    `CREATE TABLE channel_heads (
      channel TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL, created_at TEXT NOT NULL
    )`,
    `CREATE TABLE signals (
      id TEXT PRIMARY KEY,
      seq BIGINT NOT NULL UNIQUE,
      last_seq BIGINT NOT NULL,
      channel TEXT NOT NULL,
      symbol TEXT NOT NULL,
      market TEXT NOT NULL,
      side TEXT NOT NULL,
      status TEXT NOT NULL,
      search TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      view TEXT NOT NULL
    )`,
    `CREATE INDEX signals_channel_seq ON signals (channel, seq)`,
    `CREATE INDEX signals_symbol_seq ON signals (symbol, seq)`,
    `CREATE INDEX signals_status_seq ON signals (status, seq)`,
    `CREATE TABLE users (
      id TEXT PRIMARY KEY,
      email TEXT NOT NULL UNIQUE,
      name TEXT,
      role TEXT NOT NULL CHECK (role IN ('admin', 'subscriber')),
      password_hash TEXT NOT NULL,
      disabled_at TEXT,
      created_at TEXT NOT NULL,
      delivered_seq BIGINT NOT NULL DEFAULT 0,
      read_seq BIGINT NOT NULL DEFAULT 0
    )`,
    `CREATE TABLE channels (
      slug TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, created_at TEXT NOT NULL
    )`,
    `CREATE TABLE grants (
      user_id TEXT NOT NULL REFERENCES users (id),
      channel TEXT NOT NULL REFERENCES channels (slug),
      granted_at TEXT NOT NULL,
      PRIMARY KEY (user_id, channel)
    )`,
    `CREATE INDEX grants_channel ON grants (channel)`,
    `CREATE TABLE sessions (
      id TEXT PRIMARY KEY,
      token_hash TEXT NOT NULL UNIQUE,
      user_id TEXT NOT NULL REFERENCES users (id),
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      revoked_at TEXT
    )`,
    `CREATE INDEX sessions_user ON sessions (user_id)`,
    `CREATE TABLE login_throttle (
      key TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_start BIGINT NOT NULL, locked_until BIGINT NOT NULL
    )`,
    `CREATE TABLE idempotency_keys (
      actor_id TEXT NOT NULL,
      key TEXT NOT NULL,
      request_hash TEXT NOT NULL,
      event_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (actor_id, key)
    )`,
  ],
  [
    // Ed25519 keys that sign channel heads. The oldest not retired is the active one.
    `CREATE TABLE signing_keys (
      id TEXT PRIMARY KEY,
      algorithm TEXT NOT NULL,
      public_key TEXT NOT NULL,
      private_key TEXT NOT NULL,
      created_at TEXT NOT NULL,
      retired_at TEXT
    )`,
  ],
  [
    // Installation-wide values: the one-time setup code, the setup marker, VAPID keys.
    `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)`,
    // Locks in a row for the same key, so each lock lasts longer than the one before.
    `ALTER TABLE login_throttle ADD COLUMN strikes INTEGER NOT NULL DEFAULT 0`,
    // A private key may live outside the database (a 0600 file or the environment): nullable.
    `ALTER TABLE signing_keys ALTER COLUMN private_key DROP NOT NULL`,
    // Substring search (LIKE '%q%') through a trigram index. pg_trgm is a trusted extension
    // (PostgreSQL 13+); where the role may not create it, search still works by scanning.
    `DO $$
      BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX signals_search_trgm ON signals USING gin (search gin_trgm_ops);
      EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
        RAISE NOTICE 'pg_trgm is not available: signal search scans the table';
      END $$`,
  ],
  [
    // Outlets: every durable destination (a webhook, a Telegram chat, a Discord channel, a
    // push device) is a cursor over the log, worked by one node at a time (the lease).
    `CREATE TABLE destinations (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('webhook', 'telegram', 'discord', 'push')),
      name TEXT NOT NULL,
      config TEXT NOT NULL,
      secret TEXT,
      previous_secret TEXT,
      previous_secret_until TEXT,
      owner_id TEXT REFERENCES users (id),
      channels TEXT NOT NULL,
      enabled INTEGER NOT NULL,
      delivered_seq BIGINT NOT NULL,
      state TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      failing_since TEXT,
      next_attempt_at BIGINT,
      last_status INTEGER,
      last_error TEXT,
      last_success_at TEXT,
      lease_owner TEXT,
      lease_until BIGINT,
      created_by TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
    `CREATE INDEX destinations_owner ON destinations (owner_id)`,
    `CREATE UNIQUE INDEX destinations_push_endpoint ON destinations (((config::jsonb) ->> 'endpoint'))
      WHERE kind = 'push'`,
    `CREATE TABLE delivery_attempts (
      id BIGSERIAL PRIMARY KEY,
      destination_id TEXT NOT NULL,
      seq BIGINT NOT NULL,
      event_id TEXT NOT NULL,
      attempt INTEGER NOT NULL,
      at TEXT NOT NULL,
      status INTEGER,
      outcome TEXT NOT NULL,
      error TEXT,
      duration_ms INTEGER NOT NULL
    )`,
    `CREATE INDEX delivery_attempts_destination ON delivery_attempts (destination_id, id)`,
    // Inlets: a TradingView (or any) webhook source publishes into one channel.
    `CREATE TABLE sources (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('tradingview')),
      name TEXT NOT NULL,
      channel TEXT NOT NULL REFERENCES channels (slug),
      label TEXT,
      market TEXT,
      secret_hash TEXT NOT NULL UNIQUE,
      allowed_ips TEXT,
      rate_per_minute INTEGER NOT NULL,
      enabled INTEGER NOT NULL,
      created_by TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      rotated_at TEXT
    )`,
    `CREATE TABLE source_requests (
      id BIGSERIAL PRIMARY KEY,
      source_id TEXT NOT NULL,
      at TEXT NOT NULL,
      address TEXT,
      content_type TEXT,
      body TEXT NOT NULL,
      status INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      reasons TEXT,
      event_id TEXT
    )`,
    `CREATE INDEX source_requests_source ON source_requests (source_id, id)`,
    // Bots publish with tokens scoped to channels, never as an admin.
    `CREATE TABLE api_tokens (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      token_hash TEXT NOT NULL UNIQUE,
      channels TEXT NOT NULL,
      created_by TEXT,
      created_at TEXT NOT NULL,
      last_used_at TEXT,
      revoked_at TEXT
    )`,
    // A channel that receives another's events after a delay, from its origin seq on.
    `CREATE TABLE channel_mirrors (
      channel TEXT PRIMARY KEY REFERENCES channels (slug),
      origin TEXT NOT NULL REFERENCES channels (slug),
      delay_seconds INTEGER NOT NULL,
      from_seq BIGINT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
  ],
];
