-- Durable execution (D3-D8). Runs can wait without holding their key ('waiting', with a row in
-- `waits`: one table for every kind of wait, a parked run's included), spawn children, carry a
-- deadline, and have their journal compacted. Failed step attempts, the outbox and schedules get
-- tables of their own.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs
  ADD CONSTRAINT runs_status_check CHECK (status IN ('queued', 'running', 'waiting', 'completed', 'failed', 'cancelled')),
  ADD COLUMN parent_id   text COLLATE "C",
  ADD COLUMN deadline_at bigint,
  ADD COLUMN compacted   boolean NOT NULL DEFAULT false;

DROP INDEX runs_pending_by_key;
CREATE INDEX runs_pending_by_key ON runs (key, priority_rank, seq) WHERE status IN ('queued', 'running', 'waiting');
CREATE INDEX runs_by_parent ON runs (parent_id, seq) WHERE parent_id IS NOT NULL;
CREATE INDEX runs_to_compact ON runs (finished_at, seq) WHERE NOT compacted AND finished_at IS NOT NULL;
CREATE INDEX runs_pending_deadline ON runs (deadline_at) WHERE status IN ('queued', 'waiting') AND deadline_at IS NOT NULL;

-- Why a waiting run waits and until when (null: until the run it waits on ends). A row lives as
-- long as the wait: the claim that ends the wait deletes it.
CREATE TABLE waits (
  run_id  text   COLLATE "C" PRIMARY KEY,
  kind    text   NOT NULL CONSTRAINT waits_kind_check CHECK (kind IN ('timer', 'retry', 'effect', 'child', 'preempted')),
  wake_at bigint,
  on_run  text   COLLATE "C",
  detail  text   NOT NULL,
  since   bigint NOT NULL
);

CREATE INDEX waits_by_wake ON waits (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX waits_on_run ON waits (on_run) WHERE on_run IS NOT NULL;

-- Failed attempts of steps that are retried (D6), keyed like the step journal.
CREATE TABLE step_attempts (
  run_seq       bigint  NOT NULL,
  seq           integer NOT NULL,
  attempt       integer NOT NULL,
  name          text    NOT NULL,
  error_code    text    NOT NULL,
  error_message text    NOT NULL,
  failed_at     bigint  NOT NULL,
  retry_at      bigint,
  PRIMARY KEY (run_seq, seq, attempt)
);

-- The outbox (D3): one row per effect key, and which effect covers each origin. Claims of one
-- effect key or of one origin serialize on transaction-scoped advisory locks (see pg-outbox).
CREATE TABLE effects (
  key             text    COLLATE "C" PRIMARY KEY,
  name            text    NOT NULL,
  run_id          text    COLLATE "C" NOT NULL,
  status          text    NOT NULL CONSTRAINT effects_status_check CHECK (status IN ('claimed', 'delivered', 'failed')),
  origins         text    NOT NULL,   -- JSON array of strings
  attempts        integer NOT NULL,
  artifact        text,
  error_code      text,
  error_message   text,
  next_attempt_at bigint,
  claimed_at      bigint  NOT NULL,
  delivered_at    bigint
);

CREATE INDEX effects_by_claim ON effects (claimed_at, key);
-- The effects a run holds (claimed, or failed with a retry pending): released when the run ends.
CREATE INDEX effects_held ON effects (run_id) WHERE status = 'claimed' OR (status = 'failed' AND next_attempt_at IS NOT NULL);

CREATE TABLE effect_origins (
  origin     text COLLATE "C" PRIMARY KEY,
  effect_key text COLLATE "C" NOT NULL
);

CREATE INDEX effect_origins_by_effect ON effect_origins (effect_key);

-- Schedules (D4): recurring commands; a tick is fired by moving next_fire_at in the transaction
-- that enqueues its command.
CREATE TABLE schedules (
  id            text    COLLATE "C" PRIMARY KEY,
  key           text    COLLATE "C" NOT NULL,
  flow          text    NOT NULL,
  input         text    NOT NULL,
  priority      text    NOT NULL,
  timing        text    NOT NULL,
  catch_up      boolean NOT NULL,
  next_fire_at  bigint,
  last_fire_at  bigint,
  created_at    bigint  NOT NULL
);

CREATE INDEX schedules_next ON schedules (next_fire_at) WHERE next_fire_at IS NOT NULL;
