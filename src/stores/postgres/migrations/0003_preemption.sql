-- Preemption (K5, K6): an operator's cancel request is recorded durably before the owner is told,
-- and a run parked by `steal` keeps its frame on the run (JSON) until a step at or past the frame's
-- position commits. `frame_turn_seq` is that position, kept beside the JSON so the step commit
-- compares integers. (The SQLite store reached the same shape through a parked_frames table that
-- its later migrations folded into the run; this schema starts with the frame on the run.)
ALTER TABLE runs
  ADD COLUMN cancel_mode    text CONSTRAINT runs_cancel_mode_check CHECK (cancel_mode IS NULL OR cancel_mode IN ('abort-keep', 'abort-drop')),
  ADD COLUMN frame          text,
  ADD COLUMN frame_turn_seq integer;

-- The pending runs of a key, in the order the mailbox needs them: claims and scans never sort a
-- key's history.
CREATE INDEX runs_pending_by_key ON runs (key, priority_rank, seq) WHERE status IN ('queued', 'running');
