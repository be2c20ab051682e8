-- The kernel's tables (K1-K4). Every migration runs inside one transaction with `search_path` set
-- to the store's schema, so the names below land there.
--
-- Conventions of this schema: times are epoch milliseconds (bigint), as the port's `Millis`; JSON
-- values are kept as the text JSON.stringify wrote (an exact round trip, `\u0000` included, which
-- jsonb refuses); keys, ids and idempotence keys use the "C" collation, so that ORDER BY is
-- code-point order as in the SQLite store, whatever the database's locale.
--
-- Runs double as the command inbox: a submitted command is a run in status 'queued'.
CREATE TABLE runs (
  seq             bigint   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id              text     COLLATE "C" NOT NULL UNIQUE,
  key             text     COLLATE "C" NOT NULL,
  flow            text     NOT NULL,
  input           text     NOT NULL,
  idempotency_key text     COLLATE "C" NOT NULL UNIQUE,
  priority        text     NOT NULL CONSTRAINT runs_priority_check CHECK (priority IN ('urgent', 'normal', 'background')),
  priority_rank   smallint NOT NULL,
  preempt         text     CONSTRAINT runs_preempt_check CHECK (preempt IS NULL OR preempt IN ('steal', 'abort-keep', 'abort-drop')),
  status          text     NOT NULL CONSTRAINT runs_status_check CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
  attempts        integer  NOT NULL DEFAULT 0,
  result          text,
  error_code      text,
  error_message   text,
  epoch           bigint,
  created_at      bigint   NOT NULL,
  started_at      bigint,
  finished_at     bigint
);

CREATE INDEX runs_by_key ON runs (key, seq);

-- The journal of committed steps, keyed by the run's sequence number rather than its random id,
-- so the steps of runs in flight together land on neighbouring index pages.
CREATE TABLE steps (
  run_seq      bigint  NOT NULL,
  seq          integer NOT NULL,
  name         text    NOT NULL,
  result       text    NOT NULL,
  epoch        bigint  NOT NULL,
  committed_at bigint  NOT NULL,
  PRIMARY KEY (run_seq, seq)
);

-- One owner lease per key; the row is never deleted, so epochs only grow. Every fenced write
-- locks this row (FOR SHARE) or names owner and epoch in its own statement; acquisition locks it
-- FOR UPDATE and updates it, so a take-over waits for the fenced writes in flight and every
-- fenced write after it sees the new epoch.
CREATE TABLE owners (
  key        text   COLLATE "C" PRIMARY KEY,
  owner_id   text,
  epoch      bigint NOT NULL,
  expires_at bigint NOT NULL,
  channel    text
);
