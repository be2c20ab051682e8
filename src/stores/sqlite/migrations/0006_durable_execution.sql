-- Durable execution (D3-D8). Runs can wait without holding their key ('waiting', with a row in
-- `waits`: one table for every kind of wait, parked frames included), spawn children, carry a
-- deadline, and have their journal compacted. Failed step attempts, the outbox and schedules get
-- tables of their own. The runs table is rebuilt because its status CHECK gains 'waiting'.
CREATE TABLE runs_v6 (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT    NOT NULL UNIQUE,
  key             TEXT    NOT NULL,
  flow            TEXT    NOT NULL,
  input           TEXT    NOT NULL,
  idempotency_key TEXT    NOT NULL UNIQUE,
  priority        TEXT    NOT NULL CHECK (priority IN ('urgent', 'normal', 'background')),
  priority_rank   INTEGER NOT NULL,
  preempt         TEXT    CHECK (preempt IS NULL OR preempt IN ('steal', 'abort-keep', 'abort-drop')),
  status          TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'completed', 'failed', 'cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  result          TEXT,
  error_code      TEXT,
  error_message   TEXT,
  epoch           INTEGER,
  cancel_mode     TEXT    CHECK (cancel_mode IS NULL OR cancel_mode IN ('abort-keep', 'abort-drop')),
  parent_id       TEXT,
  deadline_at     INTEGER,
  compacted       INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER
);

INSERT INTO runs_v6 (seq, id, key, flow, input, idempotency_key, priority, priority_rank, preempt, status, attempts,
                     result, error_code, error_message, epoch, cancel_mode, created_at, started_at, finished_at)
  SELECT seq, id, key, flow, input, idempotency_key, priority, priority_rank, preempt,
         CASE WHEN parked = 1 AND status = 'queued' THEN 'waiting' ELSE status END, attempts,
         result, error_code, error_message, epoch, cancel_mode, created_at, started_at, finished_at
  FROM runs;

-- Why a run waits and until when (null: until the run it waits on ends). A parked run's row
-- (kind 'preempted', its frame as detail) stays while it runs again, until a step at or past the
-- frame's position commits.
CREATE TABLE waits (
  run_id  TEXT    PRIMARY KEY,
  kind    TEXT    NOT NULL CHECK (kind IN ('timer', 'retry', 'effect', 'child', 'preempted')),
  wake_at INTEGER,
  on_run  TEXT,
  detail  TEXT    NOT NULL,
  since   INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO waits (run_id, kind, wake_at, on_run, detail, since)
  SELECT run_id, 'preempted', parked_at, NULL,
         json_object('runId', run_id, 'key', key, 'epoch', epoch, 'turnSeq', turn_seq, 'attempt', attempt,
                     'provider', provider, 'input', json(input), 'sessionId', session_id, 'parkedBy', parked_by,
                     'parkedAt', parked_at),
         parked_at
  FROM parked_frames;

DROP TABLE parked_frames;
DROP TABLE runs;
ALTER TABLE runs_v6 RENAME TO runs;

CREATE INDEX runs_pending_by_key ON runs (key, priority_rank, seq) WHERE status IN ('queued', 'running', 'waiting');
CREATE INDEX runs_by_key ON runs (key, seq);
CREATE INDEX runs_by_parent ON runs (parent_id, seq) WHERE parent_id IS NOT NULL;
CREATE INDEX runs_to_compact ON runs (finished_at) WHERE compacted = 0 AND finished_at IS NOT NULL;
CREATE INDEX runs_waiting_deadline ON runs (deadline_at) WHERE status = 'waiting' AND deadline_at IS NOT NULL;
CREATE INDEX waits_by_wake ON waits (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX waits_on_run ON waits (on_run) WHERE on_run IS NOT NULL;

-- Failed attempts of steps that are retried (D6), keyed like the step journal.
CREATE TABLE step_attempts (
  run_seq       INTEGER NOT NULL,
  seq           INTEGER NOT NULL,
  attempt       INTEGER NOT NULL,
  name          TEXT    NOT NULL,
  error_code    TEXT    NOT NULL,
  error_message TEXT    NOT NULL,
  failed_at     INTEGER NOT NULL,
  retry_at      INTEGER,
  PRIMARY KEY (run_seq, seq, attempt)
) WITHOUT ROWID;

-- The outbox (D3): one row per effect key, and which effect covers each origin.
CREATE TABLE effects (
  key             TEXT    PRIMARY KEY,
  name            TEXT    NOT NULL,
  run_id          TEXT    NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('claimed', 'delivered', 'failed')),
  origins         TEXT    NOT NULL,
  attempts        INTEGER NOT NULL,
  artifact        TEXT,
  error_code      TEXT,
  error_message   TEXT,
  next_attempt_at INTEGER,
  claimed_at      INTEGER NOT NULL,
  delivered_at    INTEGER
) WITHOUT ROWID;

CREATE INDEX effects_owed ON effects (claimed_at) WHERE status IN ('claimed', 'failed');

CREATE TABLE effect_origins (
  origin     TEXT PRIMARY KEY,
  effect_key TEXT NOT NULL
) WITHOUT ROWID;

-- Schedules (D4): recurring commands; a tick is fired by moving next_fire_at in the transaction
-- that enqueues its command.
CREATE TABLE schedules (
  id            TEXT    PRIMARY KEY,
  key           TEXT    NOT NULL,
  flow          TEXT    NOT NULL,
  input         TEXT    NOT NULL,
  priority      TEXT    NOT NULL,
  timing        TEXT    NOT NULL,
  catch_up      INTEGER NOT NULL,
  next_fire_at  INTEGER,
  last_fire_at  INTEGER,
  created_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX schedules_next ON schedules (next_fire_at) WHERE next_fire_at IS NOT NULL;
