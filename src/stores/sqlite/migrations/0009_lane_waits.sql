-- ctx.lane (L1-L9 inside flows): a run refused a lane waits durably with a wait of kind 'lane',
-- until the colliding lease's expiry (wake_at), or sooner when the run holding that lease
-- (on_run) releases a lane. The waits table is rebuilt because its kind CHECK gains 'lane';
-- its rows, columns and indexes are otherwise unchanged.
CREATE TABLE waits_v9 (
  run_id  TEXT    PRIMARY KEY,
  kind    TEXT    NOT NULL CHECK (kind IN ('timer', 'retry', 'effect', 'child', 'preempted', 'lane')),
  wake_at INTEGER,
  on_run  TEXT,
  detail  TEXT    NOT NULL,
  since   INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO waits_v9 (run_id, kind, wake_at, on_run, detail, since)
  SELECT run_id, kind, wake_at, on_run, detail, since FROM waits;

DROP TABLE waits;
ALTER TABLE waits_v9 RENAME TO waits;

CREATE INDEX waits_by_wake ON waits (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX waits_on_run ON waits (on_run) WHERE on_run IS NOT NULL;
