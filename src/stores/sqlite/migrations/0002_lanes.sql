-- Lane leases (L1-L9): the append-only lane journal and the live set materialized from it.
-- lane_leases and lane_generations are always equal to replay(lane_journal): they are changed
-- only in the transaction that appends the records that change them. No secondary indexes: every
-- write transaction would pay for them in pages synced, and the live set is small.

CREATE TABLE lane_journal (
  seq         INTEGER PRIMARY KEY,
  op          TEXT NOT NULL,
  at          INTEGER NOT NULL,
  lane        TEXT,
  lease       INTEGER,
  holder      TEXT,
  kind        TEXT,
  tree        TEXT,              -- JSON array of normalised prefixes
  mode        TEXT,
  ttl_minutes REAL,
  generation  INTEGER,
  host        TEXT,
  pid         INTEGER,
  run_id      TEXT,
  reason      TEXT,
  detail      TEXT               -- JSON
);

CREATE TABLE lane_leases (
  id          INTEGER PRIMARY KEY,   -- seq of the acquire record
  lane        TEXT NOT NULL,
  kind        TEXT NOT NULL,
  tree        TEXT NOT NULL,
  mode        TEXT NOT NULL,
  holder      TEXT NOT NULL,
  host        TEXT NOT NULL,
  pid         INTEGER NOT NULL,
  run_id      TEXT,
  ttl_minutes REAL NOT NULL,
  generation  INTEGER NOT NULL,
  acquired_at INTEGER NOT NULL,
  beat_at     INTEGER NOT NULL
);

CREATE TABLE lane_generations (
  lane       TEXT PRIMARY KEY,
  generation INTEGER NOT NULL
) WITHOUT ROWID;
