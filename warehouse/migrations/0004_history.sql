-- Evidence, incremental harvesting and history.
--
-- fetches: the validators a response carried (for the next run's conditional requests),
-- the body bytes actually received, and whether the response was a revalidation (304) whose
-- body an earlier run archived (observed_run; evidence_ref then points at that run's record).

ALTER TABLE fetches ADD COLUMN etag VARCHAR;
ALTER TABLE fetches ADD COLUMN last_modified VARCHAR;
ALTER TABLE fetches ADD COLUMN downloaded_bytes BIGINT;
ALTER TABLE fetches ADD COLUMN not_modified BOOLEAN;
ALTER TABLE fetches ADD COLUMN observed_run VARCHAR;
COMMENT ON COLUMN fetches.evidence_ref IS 'WARC record of the response: <warc file>#<offset> (scrapers.evidence); NULL when nothing was received.';
COMMENT ON COLUMN fetches.downloaded_bytes IS 'Body bytes received over the network (0 for a 304 revalidation).';
COMMENT ON COLUMN fetches.not_modified IS 'The server answered 304 Not Modified: the body is the one observed_run archived.';
COMMENT ON COLUMN fetches.observed_run IS 'The run that received the body (this run unless not_modified).';

-- Every distinct version (bytes) of a published document, keyed by subject, URL and period,
-- with the successful runs that saw it.
CREATE VIEW v_resource_versions AS
SELECT x.subject_id, x.url, x.period_end, x.sha256,
       any_value(x.obligation_id ORDER BY r.started_at DESC) AS obligation_id,
       any_value(x.updated_at ORDER BY r.started_at DESC) AS updated_at,
       min(r.as_of) AS first_as_of,
       max(r.as_of) AS last_as_of,
       arg_min(x.run_id, r.started_at) AS first_run,
       arg_max(x.run_id, r.started_at) AS last_run,
       count(DISTINCT x.run_id) AS runs
FROM resources AS x
JOIN runs AS r ON r.run_id = x.run_id AND r.status = 'success'
GROUP BY x.subject_id, x.url, x.period_end, x.sha256;
