-- Scores, in SQL: the configuration each run was scored with, the macros that compute the
-- scores from obligation_checks and findings, the materialised results, and the trend views.
--
-- The scoring model (README "Scores"): every applicable obligation is valued 1 / 0.5 /
-- 0 on seven criteria; a finding leaves a criterion of a published obligation at the value
-- score_rules gives it (lowest wins, 1 without findings; portal-level findings with a
-- portal code count against every obligation of the subject); missing, blocked and
-- unreachable obligations score 0, justified ones 1. An obligation's score is the weighted
-- mean of its criteria; a subject's index is 100 × the obligation-weighted mean of its
-- obligations' scores.
--
-- Analysts recompute any run's scores with
--     SELECT * FROM obligation_scores_of('<run_id>');
--     SELECT * FROM subject_scores_of('<run_id>');
-- which is exactly what warehouse.scoring materialises into obligation_scores and scores.

CREATE TABLE score_config (
    run_id                      VARCHAR PRIMARY KEY,
    version                     VARCHAR,
    sha256                      VARCHAR,
    source                      VARCHAR,
    outdated_zero_after_periods INTEGER NOT NULL,
    default_obligation_weight   DOUBLE NOT NULL,
    computed_at                 TIMESTAMP
);
COMMENT ON TABLE score_config IS 'The scoring file a run was scored with (audit/scoring.toml or LUPA_SCORING).';

CREATE TABLE score_criteria (
    run_id            VARCHAR NOT NULL,
    criterion         VARCHAR NOT NULL CHECK (criterion IN (
                          'presencia', 'actualizacion', 'confiabilidad', 'formato',
                          'apertura', 'validez', 'enlaces')),
    subindex          VARCHAR NOT NULL CHECK (subindex IN ('cumplimiento', 'utilidad')),
    weight            DOUBLE NOT NULL CHECK (weight > 0),
    position          INTEGER,
    label_es          VARCHAR,
    PRIMARY KEY (run_id, criterion)
);
COMMENT ON TABLE score_criteria IS 'Criterion weights and sub-index of each criterion, per run.';

CREATE TABLE score_rules (
    run_id            VARCHAR NOT NULL,
    code              VARCHAR NOT NULL,
    criterion         VARCHAR NOT NULL,
    value             DOUBLE NOT NULL CHECK (value IN (0, 0.5, 1)),
    PRIMARY KEY (run_id, code, criterion)
);
COMMENT ON TABLE score_rules IS 'What a finding code leaves of a criterion of a published obligation, per run.';

CREATE TABLE score_obligation_weights (
    run_id            VARCHAR NOT NULL,
    obligation_id     VARCHAR NOT NULL,
    weight            DOUBLE NOT NULL CHECK (weight > 0),
    PRIMARY KEY (run_id, obligation_id)
);
COMMENT ON TABLE score_obligation_weights IS 'Obligations weighted other than score_config.default_obligation_weight.';

CREATE TABLE score_bands (
    run_id            VARCHAR NOT NULL,
    band              VARCHAR NOT NULL,
    min_index         DOUBLE NOT NULL,
    PRIMARY KEY (run_id, band)
);
COMMENT ON TABLE score_bands IS 'Index bands (lowest index of each) used by the reports.';

CREATE TABLE obligation_scores (
    run_id            VARCHAR NOT NULL,
    subject_id        VARCHAR NOT NULL,
    obligation_id     VARCHAR NOT NULL,
    status            VARCHAR NOT NULL,
    weight            DOUBLE NOT NULL,
    presencia         DOUBLE,
    actualizacion     DOUBLE,
    confiabilidad     DOUBLE,
    formato           DOUBLE,
    apertura          DOUBLE,
    validez           DOUBLE,
    enlaces           DOUBLE,
    cumplimiento      DOUBLE,
    utilidad          DOUBLE,
    score             DOUBLE,
    points_lost       DOUBLE,
    reasons           VARCHAR[],
    PRIMARY KEY (run_id, subject_id, obligation_id)
);
COMMENT ON TABLE obligation_scores IS 'Criteria (1/0.5/0) and score (0-1) of every applicable obligation; points_lost = index points the subject loses on it; reasons = the finding codes that cost them.';

ALTER TABLE scores ADD COLUMN compliance DOUBLE;
ALTER TABLE scores ADD COLUMN actualizacion DOUBLE;
ALTER TABLE scores ADD COLUMN confiabilidad DOUBLE;
ALTER TABLE scores ADD COLUMN formato DOUBLE;
ALTER TABLE scores ADD COLUMN apertura DOUBLE;
ALTER TABLE scores ADD COLUMN validez DOUBLE;
ALTER TABLE scores ADD COLUMN enlaces DOUBLE;
ALTER TABLE scores ADD COLUMN obligations_applicable INTEGER;
ALTER TABLE scores ADD COLUMN obligations_published INTEGER;
ALTER TABLE scores ADD COLUMN findings INTEGER;
ALTER TABLE scores ADD COLUMN band VARCHAR;
ALTER TABLE scores ADD COLUMN rank_national INTEGER;
ALTER TABLE scores ADD COLUMN rank_type INTEGER;
ALTER TABLE scores ADD COLUMN rank_state INTEGER;
COMMENT ON COLUMN scores.presence IS 'Sub-index presencia, 0-100.';
COMMENT ON COLUMN scores.compliance IS 'Sub-index cumplimiento (presencia, actualización, confiabilidad, formato), 0-100.';
COMMENT ON COLUMN scores.usefulness IS 'Sub-index utilidad (apertura, validez, enlaces), 0-100.';
COMMENT ON COLUMN scores.index_0_100 IS 'Índice Lupa: 100 x weighted mean of the obligation scores.';
COMMENT ON COLUMN scores.rank_state IS 'Rank among subjects of the same state (federal subjects rank among themselves).';

-- Every applicable obligation of a run, valued on each criterion.
CREATE MACRO obligation_scores_of(rid) AS TABLE
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
           f.obligation_id IS NOT NULL AS own
    FROM checks AS k
    JOIN findings AS f
      ON f.run_id = rid AND f.subject_id = k.subject_id
     AND (f.obligation_id = k.obligation_id
          OR (f.obligation_id IS NULL AND f.code IN (
              'PORTAL_UNREACHABLE', 'TLS_INVALID', 'ROBOTS_DISALLOWED', 'ACCESS_BLOCKED',
              'JS_REQUIRED', 'NO_TRANSPARENCY_SECTION', 'DELEGATES_TO_PNT')))
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
           SUM(criterion_weight * value) FILTER (subindex = 'cumplimiento')
               / SUM(criterion_weight) FILTER (subindex = 'cumplimiento') AS cumplimiento,
           SUM(criterion_weight * value) FILTER (subindex = 'utilidad')
               / SUM(criterion_weight) FILTER (subindex = 'utilidad') AS utilidad,
           SUM(criterion_weight * value) / SUM(criterion_weight) AS score
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
             / SUM(s.weight) OVER (PARTITION BY s.subject_id), 4) AS points_lost,
       COALESCE(r.reasons, []::VARCHAR[]) AS reasons
FROM scored AS s
LEFT JOIN reasons AS r USING (subject_id, obligation_id);

-- Every audited subject of a run: sub-indices, index, band and ranks.
CREATE MACRO subject_scores_of(rid) AS TABLE
WITH o AS (
    SELECT * FROM obligation_scores_of(rid)
),
per_subject AS (
    SELECT subject_id,
           100 * SUM(weight * presencia) / SUM(weight) AS presence,
           100 * SUM(weight * actualizacion) / SUM(weight) AS actualizacion,
           100 * SUM(weight * confiabilidad) / SUM(weight) AS confiabilidad,
           100 * SUM(weight * formato) / SUM(weight) AS formato,
           100 * SUM(weight * apertura) / SUM(weight) AS apertura,
           100 * SUM(weight * validez) / SUM(weight) AS validez,
           100 * SUM(weight * enlaces) / SUM(weight) AS enlaces,
           100 * SUM(weight * cumplimiento) / SUM(weight) AS compliance,
           100 * SUM(weight * utilidad) / SUM(weight) AS usefulness,
           LEAST(100, GREATEST(0, 100 * SUM(weight * score) / SUM(weight))) AS index_0_100,
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

-- Each subject's scores run after run, with the previous run that covered it: runs in order
-- of their cut-off date (as_of), then of when they ran (a re-audit of the same cut-off
-- follows the earlier one).
CREATE VIEW v_score_history AS
SELECT s.*, r.as_of, r.started_at,
       LAG(s.run_id) OVER w AS previous_run_id,
       LAG(s.index_0_100) OVER w AS previous_index,
       ROUND(s.index_0_100 - LAG(s.index_0_100) OVER w, 2) AS index_change
FROM scores AS s
JOIN runs AS r ON r.run_id = s.run_id AND r.status = 'success'
WINDOW w AS (PARTITION BY s.subject_id ORDER BY r.as_of, r.started_at, s.run_id);

-- Findings that appeared or went away since the subject's previous run. A finding is the
-- same across runs when subject, obligation (or portal) and code are.
CREATE VIEW v_finding_changes AS
WITH pairs AS (
    SELECT run_id, subject_id, previous_run_id
    FROM v_score_history WHERE previous_run_id IS NOT NULL
)
SELECT p.run_id, p.subject_id, p.previous_run_id, 'new' AS change, f.obligation_id, f.code,
       f.severity, f.message, f.evidence_url, f.finding_id
FROM pairs AS p
JOIN findings AS f ON f.run_id = p.run_id AND f.subject_id = p.subject_id
WHERE NOT EXISTS (
    SELECT 1 FROM findings AS g
    WHERE g.run_id = p.previous_run_id AND g.subject_id = p.subject_id AND g.code = f.code
      AND g.obligation_id IS NOT DISTINCT FROM f.obligation_id)
UNION ALL
SELECT p.run_id, p.subject_id, p.previous_run_id, 'resolved' AS change, g.obligation_id,
       g.code, g.severity, g.message, g.evidence_url, g.finding_id
FROM pairs AS p
JOIN findings AS g ON g.run_id = p.previous_run_id AND g.subject_id = p.subject_id
WHERE NOT EXISTS (
    SELECT 1 FROM findings AS f
    WHERE f.run_id = p.run_id AND f.subject_id = p.subject_id AND f.code = g.code
      AND f.obligation_id IS NOT DISTINCT FROM g.obligation_id);

-- Obligation scores against the subject's previous run; regression = the score went down.
CREATE VIEW v_obligation_changes AS
SELECT h.run_id, h.subject_id, h.previous_run_id, o.obligation_id,
       p.status AS previous_status, o.status,
       p.score AS previous_score, o.score, o.score - p.score AS score_change,
       o.score < p.score AS regression, o.reasons
FROM v_score_history AS h
JOIN obligation_scores AS o ON o.run_id = h.run_id AND o.subject_id = h.subject_id
JOIN obligation_scores AS p
  ON p.run_id = h.previous_run_id AND p.subject_id = h.subject_id
 AND p.obligation_id = o.obligation_id
WHERE h.previous_run_id IS NOT NULL;
