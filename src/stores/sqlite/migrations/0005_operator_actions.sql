-- What operators did to runs from outside their flows (cancel, retry), kept for inspection.
CREATE TABLE operator_actions (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT    NOT NULL,
  action TEXT    NOT NULL CHECK (action IN ('cancel', 'retry')),
  detail TEXT    NOT NULL,
  at     INTEGER NOT NULL
);

CREATE INDEX operator_actions_by_run ON operator_actions (run_id, seq);
