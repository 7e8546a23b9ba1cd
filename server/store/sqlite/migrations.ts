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
];
