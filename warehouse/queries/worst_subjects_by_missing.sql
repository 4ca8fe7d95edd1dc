-- Subjects with the largest share of applicable obligations not published, in the latest
-- successful run. "Applicable" excludes not_applicable; blocked/unreachable are counted
-- apart because they say more about the portal than about publication.
SELECT
    v.subject_id,
    any_value(v.subject_name) AS subject_name,
    any_value(v.level) AS level,
    any_value(v.state) AS state,
    count(*) FILTER (WHERE v.status <> 'not_applicable') AS applicable,
    count(*) FILTER (WHERE v.status = 'missing') AS missing,
    count(*) FILTER (WHERE v.status IN ('blocked', 'unreachable')) AS not_verifiable,
    round(100.0 * count(*) FILTER (WHERE v.status = 'missing')
          / nullif(count(*) FILTER (WHERE v.status <> 'not_applicable'), 0), 1) AS missing_pct
FROM v_obligation_status AS v
WHERE v.run_id = (SELECT run_id FROM latest_run)
GROUP BY v.subject_id
ORDER BY missing_pct DESC NULLS LAST, missing DESC, v.subject_id
LIMIT 20;
