-- The durable run-event feed (I2, I4): what kernels report, appended in batches and read by cursor.
-- `seq` is the cursor. AUTOINCREMENT keeps it strictly increasing even after pruning deleted the
-- newest rows: a reader's cursor never sees a seq again.
CREATE TABLE events (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  at     INTEGER NOT NULL,
  type   TEXT    NOT NULL,
  run_id TEXT,
  key    TEXT,
  data   TEXT    NOT NULL
);

CREATE INDEX events_by_run ON events (run_id, seq) WHERE run_id IS NOT NULL;
CREATE INDEX events_by_at ON events (at);

-- Provider process groups (S2, S4), recorded when a turn starts them and ended when they are gone,
-- so a janitor can kill the groups a dead kernel process left behind. At most one open record per
-- (pgid, owner).
CREATE TABLE process_groups (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  pgid            INTEGER NOT NULL,
  owner_id        TEXT    NOT NULL,
  host            TEXT    NOT NULL,
  pid             INTEGER NOT NULL,
  run_id          TEXT    NOT NULL,
  key             TEXT    NOT NULL,
  leader_start    INTEGER,
  started_at      INTEGER NOT NULL,
  ended_at        INTEGER,
  reap_claimed_by TEXT,
  reap_claimed_at INTEGER
);

CREATE UNIQUE INDEX process_groups_open ON process_groups (pgid, owner_id) WHERE ended_at IS NULL;
CREATE INDEX process_groups_ended ON process_groups (ended_at) WHERE ended_at IS NOT NULL;
