-- Tracing (issue 16, docs/tracing.md): the W3C trace context of the code that
-- added the job, so the span that runs it joins the same trace. NULL when
-- nothing was traced (no OpenTelemetry SDK registered in the adding process).
-- Nullable columns without a default: adding them rewrites no rows. claim_jobs
-- returns SETOF jobs, so claims carry the new columns with no change to it.
ALTER TABLE jobs ADD COLUMN traceparent text;
ALTER TABLE jobs ADD COLUMN tracestate text;
