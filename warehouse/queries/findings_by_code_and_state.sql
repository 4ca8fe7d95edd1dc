-- Findings of the latest successful run by state (federal subjects have no state) and code,
-- most severe first: where each kind of opacity concentrates.
SELECT
    coalesce(nullif(f.state, ''), 'Federal') AS state,
    f.code,
    f.severity,
    count(*) AS findings,
    count(DISTINCT f.subject_id) AS subjects
FROM v_findings AS f
WHERE f.run_id = (SELECT run_id FROM latest_run)
GROUP BY ALL
ORDER BY state, min(f.severity_rank), findings DESC, f.code;
