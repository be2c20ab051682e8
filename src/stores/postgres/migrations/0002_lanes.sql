-- Lane leases (L1-L9): the append-only lane journal and the live set materialized from it.
-- lane_leases and lane_generations are always equal to replay(lane_journal): they are changed
-- only in the transaction that appends the records that change them. Writers serialize on the
-- single row of lane_head (SELECT ... FOR UPDATE), so a read -> decide -> append never races
-- another, in this process or any other.
CREATE TABLE lane_head (
  only_row boolean PRIMARY KEY DEFAULT true CONSTRAINT lane_head_one_row CHECK (only_row)
);
INSERT INTO lane_head DEFAULT VALUES;

CREATE TABLE lane_journal (
  seq         bigint PRIMARY KEY,
  op          text   NOT NULL,
  at          bigint NOT NULL,
  lane        text,
  lease       bigint,
  holder      text,
  kind        text,
  tree        text,              -- JSON array of normalised prefixes
  mode        text,
  ttl_minutes double precision,
  generation  bigint,
  host        text,
  pid         integer,
  run_id      text,
  reason      text,
  detail      text               -- JSON
);

CREATE INDEX lane_journal_by_at ON lane_journal (at);

CREATE TABLE lane_leases (
  id          bigint PRIMARY KEY,   -- seq of the acquire record
  lane        text   NOT NULL,
  kind        text   NOT NULL,
  tree        text   NOT NULL,
  mode        text   NOT NULL,
  holder      text   NOT NULL,
  host        text   NOT NULL,
  pid         integer NOT NULL,
  run_id      text,
  ttl_minutes double precision NOT NULL,
  generation  bigint NOT NULL,
  acquired_at bigint NOT NULL,
  beat_at     bigint NOT NULL
);

CREATE TABLE lane_generations (
  lane       text   COLLATE "C" PRIMARY KEY,
  generation bigint NOT NULL
);
