-- Each subject of the latest successful run against its previous run: index change,
-- findings that appeared and went away, obligations that got worse.
SELECT h.subject_id, j.name, h.previous_run_id, h.previous_index, h.index_0_100,
       h.index_change,
       (SELECT count(*) FROM v_finding_changes c
         WHERE c.run_id = h.run_id AND c.subject_id = h.subject_id AND c.change = 'new')
           AS new_findings,
       (SELECT count(*) FROM v_finding_changes c
         WHERE c.run_id = h.run_id AND c.subject_id = h.subject_id AND c.change = 'resolved')
           AS resolved_findings,
       (SELECT count(*) FROM v_obligation_changes o
         WHERE o.run_id = h.run_id AND o.subject_id = h.subject_id AND o.regression)
           AS regressions
FROM v_score_history AS h
JOIN latest_run AS r USING (run_id)
JOIN subjects AS j USING (subject_id)
ORDER BY h.index_change NULLS LAST, h.subject_id;
