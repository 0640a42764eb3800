-- Tracing (issue 16, docs/tracing.md): the W3C trace context of the code that
-- added the job, so the span that runs it joins the same trace. NULL when
-- nothing was traced (no OpenTelemetry SDK registered in the adding process).
ALTER TABLE jobs ADD COLUMN traceparent TEXT;
ALTER TABLE jobs ADD COLUMN tracestate TEXT;
