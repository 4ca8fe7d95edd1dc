-- Every run with its size and outcome, newest first: the operator's first look.
WITH
    checks AS (
        SELECT
            run_id,
            count(*) FILTER (WHERE status = 'present') AS present,
            count(*) FILTER (WHERE status = 'missing') AS missing,
            count(*) FILTER (WHERE status IN ('blocked', 'unreachable')) AS not_verifiable
        FROM obligation_checks
        GROUP BY run_id
    ),
    found AS (SELECT run_id, count(*) AS findings FROM findings GROUP BY run_id),
    fetched AS (
        SELECT run_id, count(*) AS fetches, count(error) AS fetch_errors
        FROM fetches
        GROUP BY run_id
    )
SELECT
    r.run_id,
    r.status,
    r.as_of,
    r.law,
    r.started_at,
    r.finished_at,
    date_diff('second', r.started_at, r.finished_at) AS duration_s,
    r.subjects_total,
    r.subjects_audited,
    r.registry_errors,
    coalesce(c.present, 0) AS present,
    coalesce(c.missing, 0) AS missing,
    coalesce(c.not_verifiable, 0) AS not_verifiable,
    coalesce(f.findings, 0) AS findings,
    coalesce(x.fetches, 0) AS fetches,
    coalesce(x.fetch_errors, 0) AS fetch_errors,
    r.error
FROM runs AS r
LEFT JOIN checks AS c ON c.run_id = r.run_id
LEFT JOIN found AS f ON f.run_id = r.run_id
LEFT JOIN fetched AS x ON x.run_id = r.run_id
ORDER BY r.started_at DESC NULLS LAST, r.run_id DESC;
