/** SQLite schema, one entry per version; each entry's statements run in one transaction. */
export const sqliteMigrations: readonly (readonly string[])[] = [
  [
    `CREATE TABLE log_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)`,
    `INSERT INTO log_head (id, seq) VALUES (1, 0)`,
    `CREATE TABLE events (
      seq INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      channel TEXT NOT NULL,
      type TEXT NOT NULL,
      signal_id TEXT NOT NULL,
      author TEXT NOT NULL,
      created_at TEXT NOT NULL,
      data TEXT NOT NULL,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL
    ) STRICT`,
    `CREATE INDEX events_channel_seq ON events (channel, seq)`,
    `CREATE INDEX events_signal_seq ON events (signal_id, seq)`,
    `CREATE TRIGGER events_no_update BEFORE UPDATE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE is not allowed'); END`,
    `CREATE TRIGGER events_no_delete BEFORE DELETE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE is not allowed'); END`,
    `CREATE TABLE channel_heads (
      channel TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL, created_at TEXT NOT NULL
    ) STRICT`,
    `CREATE TABLE signals (
      id TEXT PRIMARY KEY,
      seq INTEGER NOT NULL UNIQUE,
      last_seq INTEGER NOT NULL,
      channel TEXT NOT NULL,
      symbol TEXT NOT NULL,
      market TEXT NOT NULL,
      side TEXT NOT NULL,
      status TEXT NOT NULL,
      search TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      view TEXT NOT NULL
    ) STRICT`,
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
      delivered_seq INTEGER NOT NULL DEFAULT 0,
      read_seq INTEGER NOT NULL DEFAULT 0
    ) STRICT`,
    `CREATE TABLE channels (
      slug TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, created_at TEXT NOT NULL
    ) STRICT`,
    `CREATE TABLE grants (
      user_id TEXT NOT NULL REFERENCES users (id),
      channel TEXT NOT NULL REFERENCES channels (slug),
      granted_at TEXT NOT NULL,
      PRIMARY KEY (user_id, channel)
    ) STRICT`,
    `CREATE INDEX grants_channel ON grants (channel)`,
    `CREATE TABLE sessions (
      id TEXT PRIMARY KEY,
      token_hash TEXT NOT NULL UNIQUE,
      user_id TEXT NOT NULL REFERENCES users (id),
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      revoked_at TEXT
    ) STRICT`,
    `CREATE INDEX sessions_user ON sessions (user_id)`,
    `CREATE TABLE login_throttle (
      key TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_start INTEGER NOT NULL, locked_until INTEGER NOT NULL
    ) STRICT`,
    `CREATE TABLE idempotency_keys (
      actor_id TEXT NOT NULL,
      key TEXT NOT NULL,
      request_hash TEXT NOT NULL,
      event_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (actor_id, key)
    ) STRICT`,
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
    ) STRICT`,
  ],
  [
    // Installation-wide values: the one-time setup code, the setup marker, VAPID keys.
    `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT`,
    // Locks in a row for the same key, so each lock lasts longer than the one before.
    `ALTER TABLE login_throttle ADD COLUMN strikes INTEGER NOT NULL DEFAULT 0`,
    // A private key may live outside the database (a 0600 file or the environment): nullable.
    `CREATE TABLE signing_keys_v3 (
      id TEXT PRIMARY KEY,
      algorithm TEXT NOT NULL,
      public_key TEXT NOT NULL,
      private_key TEXT,
      created_at TEXT NOT NULL,
      retired_at TEXT
    ) STRICT`,
    `INSERT INTO signing_keys_v3 SELECT id, algorithm, public_key, private_key, created_at, retired_at FROM signing_keys`,
    `DROP TABLE signing_keys`,
    `ALTER TABLE signing_keys_v3 RENAME TO signing_keys`,
    // Substring search over a trigram index instead of a LIKE scan of every signal. Keyed by
    // seq, not rowid: VACUUM may renumber the rowids of a table whose key is not an integer.
    `CREATE VIRTUAL TABLE signals_search USING fts5(search, tokenize = 'trigram')`,
    `INSERT INTO signals_search (rowid, search) SELECT seq, search FROM signals`,
    `CREATE TRIGGER signals_search_insert AFTER INSERT ON signals
      BEGIN INSERT INTO signals_search (rowid, search) VALUES (new.seq, new.search); END`,
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
      delivered_seq INTEGER NOT NULL,
      state TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      failing_since TEXT,
      next_attempt_at INTEGER,
      last_status INTEGER,
      last_error TEXT,
      last_success_at TEXT,
      lease_owner TEXT,
      lease_until INTEGER,
      created_by TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    ) STRICT`,
    `CREATE INDEX destinations_owner ON destinations (owner_id)`,
    `CREATE UNIQUE INDEX destinations_push_endpoint ON destinations (json_extract(config, '$.endpoint'))
      WHERE kind = 'push'`,
    `CREATE TABLE delivery_attempts (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      destination_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      event_id TEXT NOT NULL,
      attempt INTEGER NOT NULL,
      at TEXT NOT NULL,
      status INTEGER,
      outcome TEXT NOT NULL,
      error TEXT,
      duration_ms INTEGER NOT NULL
    ) STRICT`,
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
    ) STRICT`,
    `CREATE TABLE source_requests (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      source_id TEXT NOT NULL,
      at TEXT NOT NULL,
      address TEXT,
      content_type TEXT,
      body TEXT NOT NULL,
      status INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      reasons TEXT,
      event_id TEXT
    ) STRICT`,
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
    ) STRICT`,
    // A channel that receives another's events after a delay, from its origin seq on.
    `CREATE TABLE channel_mirrors (
      channel TEXT PRIMARY KEY REFERENCES channels (slug),
      origin TEXT NOT NULL REFERENCES channels (slug),
      delay_seconds INTEGER NOT NULL,
      from_seq INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    ) STRICT`,
  ],
];
