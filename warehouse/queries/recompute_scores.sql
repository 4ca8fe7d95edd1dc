-- Recompute a run's scores from obligation_checks and findings with the warehouse's scoring
-- macros (migration 0003) and compare them with what is stored. Prints one row:
-- differences = 0 when every stored score is what the documented SQL gives.
--   .venv/bin/duckdb -readonly lupa.duckdb -cmd "SET VARIABLE run_id = 'RUN'" \
--       -c ".read warehouse/queries/recompute_scores.sql"
-- (without the variable: the latest successful run)
SET VARIABLE run_id = COALESCE(getvariable('run_id'), (SELECT run_id FROM latest_run));

WITH recomputed AS (
    SELECT * FROM subject_scores_of(getvariable('run_id'))
),
stored AS (
    SELECT * EXCLUDE (computed_at) FROM scores WHERE run_id = getvariable('run_id')
),
obligations_recomputed AS (
    SELECT * FROM obligation_scores_of(getvariable('run_id'))
),
obligations_stored AS (
    SELECT * FROM obligation_scores WHERE run_id = getvariable('run_id')
)
SELECT (SELECT count(*) FROM (
            (SELECT * FROM recomputed EXCEPT ALL SELECT * FROM stored)
            UNION ALL
            (SELECT * FROM stored EXCEPT ALL SELECT * FROM recomputed)))
     + (SELECT count(*) FROM (
            (SELECT * FROM obligations_recomputed EXCEPT ALL SELECT * FROM obligations_stored)
            UNION ALL
            (SELECT * FROM obligations_stored EXCEPT ALL SELECT * FROM obligations_recomputed)))
       AS differences;
