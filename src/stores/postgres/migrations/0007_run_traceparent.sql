-- Observability (I4): the W3C `traceparent` a run was submitted with, so that its spans continue
-- the submitter's trace in whichever process executes it. NULL for runs submitted outside a trace.
ALTER TABLE runs ADD COLUMN traceparent text;
