-- The durable run-event feed (I2, I4): what kernels report, appended in batches and read by cursor.
-- `seq` is the cursor. Appenders take their seqs from the single row of event_head, whose row lock
-- they hold until they commit: batches commit in seq order, so a reader that has seen seq n never
-- later finds a smaller seq committed behind it, and seqs are never reused after pruning.
CREATE TABLE event_head (
  only_row boolean PRIMARY KEY DEFAULT true CONSTRAINT event_head_one_row CHECK (only_row),
  last_seq bigint  NOT NULL DEFAULT 0
);
INSERT INTO event_head DEFAULT VALUES;

CREATE TABLE events (
  seq    bigint PRIMARY KEY,
  at     bigint NOT NULL,
  type   text   NOT NULL,
  run_id text   COLLATE "C",
  key    text   COLLATE "C",
  data   text   NOT NULL
);

CREATE INDEX events_by_run ON events (run_id, seq) WHERE run_id IS NOT NULL;
CREATE INDEX events_by_at ON events (at);

-- Provider process groups (S2, S4), recorded when a turn starts them and ended when they are gone,
-- so a janitor can kill the groups a dead kernel process left behind. At most one open record per
-- (pgid, owner).
CREATE TABLE process_groups (
  id              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pgid            integer NOT NULL,
  owner_id        text    NOT NULL,
  host            text    NOT NULL,
  pid             integer NOT NULL,
  run_id          text    NOT NULL,
  key             text    NOT NULL,
  leader_start    bigint,
  started_at      bigint  NOT NULL,
  ended_at        bigint,
  reap_claimed_by text,
  reap_claimed_at bigint
);

CREATE UNIQUE INDEX process_groups_open ON process_groups (pgid, owner_id) WHERE ended_at IS NULL;
CREATE INDEX process_groups_ended ON process_groups (ended_at) WHERE ended_at IS NOT NULL;
