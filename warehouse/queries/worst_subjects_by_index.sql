-- The 20 subjects with the lowest index in the latest successful run, with what costs them
-- most (the obligation with the most points lost and its finding codes).
SELECT s.rank_national, s.subject_id, j.name, j.subject_type, j.state, s.index_0_100,
       s.band, s.compliance, s.usefulness,
       w.obligation_id AS costliest_obligation, w.points_lost, w.reasons
FROM scores AS s
JOIN latest_run AS r USING (run_id)
JOIN subjects AS j USING (subject_id)
LEFT JOIN (
    SELECT run_id, subject_id, obligation_id, points_lost, reasons
    FROM obligation_scores
    QUALIFY row_number() OVER (PARTITION BY run_id, subject_id
                               ORDER BY points_lost DESC, obligation_id) = 1
) AS w USING (run_id, subject_id)
ORDER BY s.index_0_100, s.subject_id
LIMIT 20;
