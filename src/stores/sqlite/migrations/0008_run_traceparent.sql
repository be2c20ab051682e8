-- Observability (I4): the W3C `traceparent` a run was submitted with, so that its spans continue
-- the submitter's trace in whichever process executes it. NULL for runs submitted outside a trace
-- (and for every run recorded before this migration).
ALTER TABLE runs ADD COLUMN traceparent TEXT;
