-- Durable execution (D3-D8). Runs can wait without holding their key ('waiting', with a row in
-- `waits`: one table for every kind of wait, a parked run's included), spawn children, carry a
-- deadline, and have their journal compacted. A parked run's frame moves onto the run (`frame`):
-- it outlives the wait, until a step at or past its position commits. Failed step attempts, the
-- outbox and schedules get tables of their own. The runs table is rebuilt because its status
-- CHECK gains 'waiting'.
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
  frame           TEXT,
  parent_id       TEXT,
  deadline_at     INTEGER,
  compacted       INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER
);

INSERT INTO runs_v6 (seq, id, key, flow, input, idempotency_key, priority, priority_rank, preempt, status, attempts,
                     result, error_code, error_message, epoch, cancel_mode, frame, created_at, started_at, finished_at)
  SELECT r.seq, r.id, r.key, r.flow, r.input, r.idempotency_key, r.priority, r.priority_rank, r.preempt,
         CASE WHEN f.run_id IS NOT NULL AND r.status = 'queued' THEN 'waiting' ELSE r.status END, r.attempts,
         r.result, r.error_code, r.error_message, r.epoch, r.cancel_mode,
         CASE WHEN f.run_id IS NULL THEN NULL ELSE
           json_object('runId', f.run_id, 'key', f.key, 'epoch', f.epoch, 'turnSeq', f.turn_seq, 'attempt', f.attempt,
                       'provider', f.provider, 'input', json(f.input), 'sessionId', f.session_id, 'parkedBy', f.parked_by,
                       'parkedAt', f.parked_at) END,
         r.created_at, r.started_at, r.finished_at
  FROM runs r LEFT JOIN parked_frames f ON f.run_id = r.id;

-- Why a waiting run waits and until when (null: until the run it waits on ends). A row lives as
-- long as the wait: the claim that ends the wait deletes it.
CREATE TABLE waits (
  run_id  TEXT    PRIMARY KEY,
  kind    TEXT    NOT NULL CHECK (kind IN ('timer', 'retry', 'effect', 'child', 'preempted')),
  wake_at INTEGER,
  on_run  TEXT,
  detail  TEXT    NOT NULL,
  since   INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO waits (run_id, kind, wake_at, on_run, detail, since)
  SELECT r.id, 'preempted', f.parked_at, NULL, r.frame, f.parked_at
  FROM runs_v6 r JOIN parked_frames f ON f.run_id = r.id WHERE r.status = 'waiting';

DROP TABLE parked_frames;
DROP TABLE runs;
ALTER TABLE runs_v6 RENAME TO runs;

CREATE INDEX runs_pending_by_key ON runs (key, priority_rank, seq) WHERE status IN ('queued', 'running', 'waiting');
CREATE INDEX runs_by_key ON runs (key, seq);
CREATE INDEX runs_by_parent ON runs (parent_id, seq) WHERE parent_id IS NOT NULL;
CREATE INDEX runs_to_compact ON runs (finished_at) WHERE compacted = 0 AND finished_at IS NOT NULL;
CREATE INDEX runs_pending_deadline ON runs (deadline_at) WHERE status IN ('queued', 'waiting') AND deadline_at IS NOT NULL;
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
-- The effects a run holds (claimed, or failed with a retry pending): released when the run ends.
CREATE INDEX effects_held ON effects (run_id) WHERE status = 'claimed' OR (status = 'failed' AND next_attempt_at IS NOT NULL);

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
