-- What operators did to runs from outside their flows (cancel, retry), kept for inspection.
CREATE TABLE operator_actions (
  seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text   COLLATE "C" NOT NULL,
  action text   NOT NULL CONSTRAINT operator_actions_action_check CHECK (action IN ('cancel', 'retry')),
  detail text   NOT NULL,
  at     bigint NOT NULL
);

CREATE INDEX operator_actions_by_run ON operator_actions (run_id, seq);
