-- Faster scoring, and deterministic: the findings that touch an obligation are joined in two
-- equi-joins (its own findings on subject and obligation; the subject's portal-level ones
-- on subject) instead of one join on subject with an OR condition, which paired every
-- finding of a subject with every obligation of it (~20,000 pairs per subject) before
-- filtering; sums no longer depend on the order rows arrive in. subject_scores_of can also
-- read the obligation scores already stored (stored := true). Both macros keep their names,
-- default arguments and output; everything else in migration 0003 stands.

-- Every sum of the scores is taken over DECIMAL terms: summing doubles in whatever order the
-- parallel aggregation meets them made the rounded index differ by 0.01 between two
-- computations of the same run (and ranks with it); a decimal sum does not depend on order.
CREATE OR REPLACE MACRO score_term(x) AS CAST(x AS DECIMAL(38, 12));

CREATE OR REPLACE MACRO obligation_scores_of(rid) AS TABLE
WITH cfg AS (
    SELECT * FROM score_config WHERE run_id = rid
),
checks AS (
    SELECT c.subject_id, c.obligation_id, c.status, c.periods_behind,
           COALESCE(w.weight, cfg.default_obligation_weight) AS weight
    FROM obligation_checks AS c
    CROSS JOIN cfg
    LEFT JOIN score_obligation_weights AS w
           ON w.run_id = rid AND w.obligation_id = c.obligation_id
    WHERE c.run_id = rid AND c.status <> 'not_applicable'
),
-- findings that touch an obligation: its own and the subject's portal-level ones (portal
-- codes only: a resource-level code raised on a portal page, such as garbled navigation
-- text, says nothing about the obligations' data)
touching AS (
    SELECT k.subject_id, k.obligation_id, k.status, k.periods_behind, f.code, f.severity,
           true AS own
    FROM checks AS k
    JOIN findings AS f
      ON f.run_id = rid AND f.subject_id = k.subject_id AND f.obligation_id = k.obligation_id
    UNION ALL
    SELECT k.subject_id, k.obligation_id, k.status, k.periods_behind, f.code, f.severity,
           false AS own
    FROM checks AS k
    JOIN findings AS f ON f.run_id = rid AND f.subject_id = k.subject_id
    WHERE f.obligation_id IS NULL AND f.code IN (
        'PORTAL_UNREACHABLE', 'TLS_INVALID', 'ROBOTS_DISALLOWED', 'ACCESS_BLOCKED',
        'JS_REQUIRED', 'NO_TRANSPARENCY_SECTION', 'DELEGATES_TO_PNT')
),
-- what each finding leaves of a criterion of a published obligation
hits AS (
    SELECT t.subject_id, t.obligation_id, r.criterion, t.code,
           CASE WHEN t.code = 'OUTDATED'
                     AND t.periods_behind >= cfg.outdated_zero_after_periods THEN 0.0
                ELSE r.value END AS value
    FROM touching AS t
    JOIN score_rules AS r ON r.run_id = rid AND r.code = t.code
    CROSS JOIN cfg
    WHERE t.status = 'present'
),
valued AS (
    SELECT k.subject_id, k.obligation_id, k.status, k.weight, c.criterion, c.subindex,
           c.weight AS criterion_weight,
           CASE WHEN k.status = 'justified' THEN 1.0
                WHEN k.status <> 'present' THEN 0.0
                ELSE COALESCE(MIN(h.value), 1.0) END AS value
    FROM checks AS k
    CROSS JOIN (SELECT * FROM score_criteria WHERE run_id = rid) AS c
    LEFT JOIN hits AS h
           ON h.subject_id = k.subject_id AND h.obligation_id = k.obligation_id
          AND h.criterion = c.criterion
    GROUP BY k.subject_id, k.obligation_id, k.status, k.weight, c.criterion, c.subindex,
             c.weight
),
scored AS (
    SELECT subject_id, obligation_id, status, weight,
           MAX(value) FILTER (criterion = 'presencia') AS presencia,
           MAX(value) FILTER (criterion = 'actualizacion') AS actualizacion,
           MAX(value) FILTER (criterion = 'confiabilidad') AS confiabilidad,
           MAX(value) FILTER (criterion = 'formato') AS formato,
           MAX(value) FILTER (criterion = 'apertura') AS apertura,
           MAX(value) FILTER (criterion = 'validez') AS validez,
           MAX(value) FILTER (criterion = 'enlaces') AS enlaces,
           SUM(score_term(criterion_weight * value)) FILTER (subindex = 'cumplimiento')
               / SUM(score_term(criterion_weight)) FILTER (subindex = 'cumplimiento')
               AS cumplimiento,
           SUM(score_term(criterion_weight * value)) FILTER (subindex = 'utilidad')
               / SUM(score_term(criterion_weight)) FILTER (subindex = 'utilidad') AS utilidad,
           SUM(score_term(criterion_weight * value)) / SUM(score_term(criterion_weight)) AS score
    FROM valued
    GROUP BY subject_id, obligation_id, status, weight
),
-- the codes behind the points lost: for a published obligation the findings that lowered a
-- criterion; for one not published its own non-informational findings (OBLIGATION_MISSING)
-- or, when it has none, the portal's (PORTAL_UNREACHABLE, ACCESS_BLOCKED…)
reasons AS (
    SELECT subject_id, obligation_id, list_sort(list(DISTINCT code)) AS reasons
    FROM (
        SELECT subject_id, obligation_id, code FROM hits WHERE value < 1
        UNION ALL
        SELECT subject_id, obligation_id, code FROM touching
        WHERE status NOT IN ('present', 'justified') AND severity <> 'info'
        QUALIFY own = bool_or(own) OVER (PARTITION BY subject_id, obligation_id)
    )
    GROUP BY subject_id, obligation_id
)
SELECT rid AS run_id, s.subject_id, s.obligation_id, s.status, s.weight,
       s.presencia, s.actualizacion, s.confiabilidad, s.formato,
       s.apertura, s.validez, s.enlaces,
       ROUND(s.cumplimiento, 6) AS cumplimiento,
       ROUND(s.utilidad, 6) AS utilidad,
       ROUND(s.score, 6) AS score,
       ROUND(100 * s.weight * (1 - s.score)
             / SUM(score_term(s.weight)) OVER (PARTITION BY s.subject_id), 4) AS points_lost,
       COALESCE(r.reasons, []::VARCHAR[]) AS reasons
FROM scored AS s
LEFT JOIN reasons AS r USING (subject_id, obligation_id);

-- Every audited subject of a run: sub-indices, index, band and ranks. With stored := true
-- the obligation scores are read from obligation_scores instead of being computed again
-- (warehouse.scoring materialises them first); by default everything is recomputed from
-- obligation_checks and findings, as before.
CREATE OR REPLACE MACRO subject_scores_of(rid, stored := false) AS TABLE
WITH o AS (
    SELECT * FROM obligation_scores_of(rid) WHERE NOT stored
    UNION ALL
    SELECT * FROM obligation_scores WHERE stored AND run_id = rid
),
per_subject AS (
    SELECT subject_id,
           100 * SUM(score_term(weight * presencia)) / SUM(score_term(weight)) AS presence,
           100 * SUM(score_term(weight * actualizacion)) / SUM(score_term(weight))
               AS actualizacion,
           100 * SUM(score_term(weight * confiabilidad)) / SUM(score_term(weight))
               AS confiabilidad,
           100 * SUM(score_term(weight * formato)) / SUM(score_term(weight)) AS formato,
           100 * SUM(score_term(weight * apertura)) / SUM(score_term(weight)) AS apertura,
           100 * SUM(score_term(weight * validez)) / SUM(score_term(weight)) AS validez,
           100 * SUM(score_term(weight * enlaces)) / SUM(score_term(weight)) AS enlaces,
           100 * SUM(score_term(weight * cumplimiento)) / SUM(score_term(weight)) AS compliance,
           100 * SUM(score_term(weight * utilidad)) / SUM(score_term(weight)) AS usefulness,
           LEAST(100, GREATEST(0, 100 * SUM(score_term(weight * score))
                                  / SUM(score_term(weight)))) AS index_0_100,
           COUNT(*) AS obligations_applicable,
           COUNT(*) FILTER (status IN ('present', 'justified')) AS obligations_published
    FROM o
    GROUP BY subject_id
),
finding_counts AS (
    SELECT subject_id, COUNT(*) AS findings
    FROM findings WHERE run_id = rid AND severity <> 'info'
    GROUP BY subject_id
),
rounded AS (
    SELECT p.subject_id,
           ROUND(p.presence, 2) AS presence, ROUND(p.usefulness, 2) AS usefulness,
           ROUND(p.index_0_100, 2) AS index_0_100, ROUND(p.compliance, 2) AS compliance,
           ROUND(p.actualizacion, 2) AS actualizacion,
           ROUND(p.confiabilidad, 2) AS confiabilidad, ROUND(p.formato, 2) AS formato,
           ROUND(p.apertura, 2) AS apertura, ROUND(p.validez, 2) AS validez,
           ROUND(p.enlaces, 2) AS enlaces,
           p.obligations_applicable, p.obligations_published,
           COALESCE(fc.findings, 0) AS findings,
           s.subject_type, COALESCE(s.state, '') AS state_key
    FROM per_subject AS p
    LEFT JOIN finding_counts AS fc USING (subject_id)
    LEFT JOIN subjects AS s USING (subject_id)
)
SELECT rid AS run_id, subject_id, presence, usefulness, index_0_100, compliance,
       actualizacion, confiabilidad, formato, apertura, validez, enlaces,
       obligations_applicable, obligations_published, findings,
       (SELECT b.band FROM score_bands AS b
         WHERE b.run_id = rid AND b.min_index <= rounded.index_0_100
         ORDER BY b.min_index DESC LIMIT 1) AS band,
       RANK() OVER (ORDER BY index_0_100 DESC) AS rank_national,
       RANK() OVER (PARTITION BY subject_type ORDER BY index_0_100 DESC) AS rank_type,
       RANK() OVER (PARTITION BY state_key ORDER BY index_0_100 DESC) AS rank_state
FROM rounded;
