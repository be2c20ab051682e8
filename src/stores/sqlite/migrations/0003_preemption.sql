-- Preemption (K5, K6): a run parked by `steal` keeps its place ahead of normal work, and an
-- operator's cancel request is recorded durably before the owner is told.
ALTER TABLE runs ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cancel_mode TEXT CHECK (cancel_mode IS NULL OR cancel_mode IN ('abort-keep', 'abort-drop'));

-- The frame of a parked run: where it was and which provider turn to re-issue.
CREATE TABLE parked_frames (
  run_id     TEXT    PRIMARY KEY,
  key        TEXT    NOT NULL,
  epoch      INTEGER NOT NULL,
  turn_seq   INTEGER NOT NULL,
  attempt    INTEGER NOT NULL,
  provider   TEXT,
  input      TEXT,
  session_id TEXT,
  parked_by  TEXT,
  parked_at  INTEGER NOT NULL
) WITHOUT ROWID;

DROP INDEX runs_pending_by_key;
CREATE INDEX runs_pending_by_key ON runs (key, priority_rank, parked, seq) WHERE status IN ('queued', 'running');
