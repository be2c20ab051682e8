-- Key the step journal by the run's integer sequence instead of its random id, so the steps of
-- runs in flight together land on neighbouring pages: fewer pages written per group commit.
CREATE TABLE steps_by_seq (
  run_seq      INTEGER NOT NULL,
  seq          INTEGER NOT NULL,
  name         TEXT    NOT NULL,
  result       TEXT    NOT NULL,
  epoch        INTEGER NOT NULL,
  committed_at INTEGER NOT NULL,
  PRIMARY KEY (run_seq, seq)
) WITHOUT ROWID;

INSERT INTO steps_by_seq (run_seq, seq, name, result, epoch, committed_at)
  SELECT r.seq, s.seq, s.name, s.result, s.epoch, s.committed_at FROM steps s JOIN runs r ON r.id = s.run_id;

DROP TABLE steps;
ALTER TABLE steps_by_seq RENAME TO steps;
