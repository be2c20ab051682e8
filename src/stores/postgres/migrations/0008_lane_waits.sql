-- ctx.lane (L1-L9 inside flows): a run refused a lane waits durably with a wait of kind 'lane',
-- until the colliding lease's expiry (wake_at), or sooner when the run holding that lease (on_run)
-- releases a lane. The kind CHECK gains 'lane'; rows, columns and indexes are unchanged.
ALTER TABLE waits DROP CONSTRAINT waits_kind_check;
ALTER TABLE waits ADD CONSTRAINT waits_kind_check CHECK (kind IN ('timer', 'retry', 'effect', 'child', 'preempted', 'lane'));
