-- Runs double as the command inbox: a submitted command is a run in status 'queued'.
CREATE TABLE runs (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT    NOT NULL UNIQUE,
  key             TEXT    NOT NULL,
  flow            TEXT    NOT NULL,
  input           TEXT    NOT NULL,
  idempotency_key TEXT    NOT NULL UNIQUE,
  priority        TEXT    NOT NULL CHECK (priority IN ('urgent', 'normal', 'background')),
  priority_rank   INTEGER NOT NULL,
  preempt         TEXT    CHECK (preempt IS NULL OR preempt IN ('steal', 'abort-keep', 'abort-drop')),
  status          TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  result          TEXT,
  error_code      TEXT,
  error_message   TEXT,
  epoch           INTEGER,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER
);

CREATE INDEX runs_pending_by_key ON runs (key, priority_rank, seq) WHERE status IN ('queued', 'running');
CREATE INDEX runs_by_key ON runs (key, seq);

-- The journal of committed steps.
CREATE TABLE steps (
  run_id       TEXT    NOT NULL,
  seq          INTEGER NOT NULL,
  name         TEXT    NOT NULL,
  result       TEXT    NOT NULL,
  epoch        INTEGER NOT NULL,
  committed_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

-- One owner lease per key; the row is never deleted so epochs only grow.
CREATE TABLE owners (
  key        TEXT    PRIMARY KEY,
  owner_id   TEXT,
  epoch      INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  channel    TEXT
) WITHOUT ROWID;
