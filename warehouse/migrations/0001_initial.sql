-- 0001_initial: the warehouse contract (DESIGN section 6).
--
-- Conventions:
--   * Enum-like values are VARCHAR + CHECK rather than ENUM types, so a later migration can
--     widen a vocabulary by rebuilding one table instead of touching every dependant.
--   * All timestamps are TIMESTAMP holding UTC (TIMESTAMPTZ values cannot be fetched into
--     Python without pytz, which the project does not ship).
--   * No foreign keys: the loader replaces a run's rows wholesale and DuckDB foreign keys
--     would block deleting parents; the loader guarantees consistency instead.
--   * Run-scoped tables carry run_id as their first column; the loader deletes and re-inserts
--     by run_id, which is what makes loading a run twice leave the same rows.
-- Applied inside one transaction by warehouse.schema.migrate; never edit once released.

CREATE TABLE runs (
    run_id            VARCHAR PRIMARY KEY,
    started_at        TIMESTAMP,
    finished_at       TIMESTAMP,
    status            VARCHAR NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'success', 'failed')),
    as_of             DATE,
    law               VARCHAR,
    registry          VARCHAR,
    subjects_total    INTEGER,
    subjects_audited  INTEGER,
    registry_errors   INTEGER,
    params            JSON,
    loaded_at         TIMESTAMP,
    error             VARCHAR
);
COMMENT ON TABLE runs IS 'One audit run (an Airflow DAG run); timestamps in UTC.';

CREATE TABLE subjects (
    subject_id        VARCHAR PRIMARY KEY,
    name              VARCHAR NOT NULL,
    acronym           VARCHAR,
    level             VARCHAR NOT NULL CHECK (level IN ('federal', 'estatal', 'municipal')),
    state             VARCHAR,
    subject_type      VARCHAR NOT NULL CHECK (subject_type IN (
                          'ejecutivo', 'legislativo', 'judicial', 'autonomo', 'universidad',
                          'partido_politico', 'fideicomiso', 'sindicato', 'autoridad_laboral',
                          'persona_fisica_moral')),
    portal_url        VARCHAR NOT NULL,
    transparency_url  VARCHAR,
    first_seen_run    VARCHAR,
    last_seen_run     VARCHAR
);
COMMENT ON TABLE subjects IS
    'Obligated subjects (sujetos obligados) as of the most recently loaded run.';

CREATE TABLE run_subjects (
    run_id            VARCHAR NOT NULL,
    subject_id        VARCHAR NOT NULL,
    PRIMARY KEY (run_id, subject_id)
);
COMMENT ON TABLE run_subjects IS 'Which subjects each run covered.';

CREATE TABLE obligations (
    law                 VARCHAR NOT NULL,
    obligation_id       VARCHAR NOT NULL,
    article             INTEGER NOT NULL,
    fraction            VARCHAR,
    subformat           VARCHAR,
    title               VARCHAR NOT NULL,
    applies_to          VARCHAR[],
    levels              VARCHAR[],
    name_pattern        VARCHAR,
    update_period       VARCHAR,
    update_period_text  VARCHAR,
    conservation_period VARCHAR,
    verified            BOOLEAN,
    keywords            VARCHAR[],
    PRIMARY KEY (law, obligation_id)
);
COMMENT ON TABLE obligations IS 'Obligation catalog entries, per law version.';

CREATE TABLE fetches (
    run_id            VARCHAR NOT NULL,
    subject_id        VARCHAR NOT NULL,
    url               VARCHAR NOT NULL,
    final_url         VARCHAR,
    status_code       INTEGER,
    content_type      VARCHAR,
    declared_type     VARCHAR,
    bytes             BIGINT,
    sha256            VARCHAR,
    elapsed_ms        BIGINT,
    fetched_at        TIMESTAMP,
    redirects         INTEGER,
    error             VARCHAR,
    error_detail      VARCHAR,
    evidence_ref      VARCHAR,
    depth             INTEGER,
    purpose           VARCHAR
);
COMMENT ON TABLE fetches IS 'Every HTTP request made for a subject; evidence_ref points to the WARC record.';

CREATE TABLE obligation_checks (
    run_id            VARCHAR NOT NULL,
    subject_id        VARCHAR NOT NULL,
    obligation_id     VARCHAR NOT NULL,
    status            VARCHAR NOT NULL CHECK (status IN (
                          'present', 'justified', 'missing', 'blocked', 'unreachable',
                          'not_applicable')),
    evidence_url      VARCHAR,
    depth             INTEGER,
    via               VARCHAR,
    note              VARCHAR,
    PRIMARY KEY (run_id, subject_id, obligation_id)
);
COMMENT ON TABLE obligation_checks IS 'Presence verdict for every (subject, obligation) of a run.';

CREATE TABLE resources (
    run_id            VARCHAR NOT NULL,
    subject_id        VARCHAR NOT NULL,
    obligation_id     VARCHAR,
    url               VARCHAR NOT NULL,
    detected_format   VARCHAR,
    stars             INTEGER CHECK (stars BETWEEN 0 AND 5),
    period_end        DATE,
    updated_at        DATE,
    rows              BIGINT,
    bytes             BIGINT,
    sha256            VARCHAR,
    status_code       INTEGER,
    depth             INTEGER,
    evidence_ref      VARCHAR
);
COMMENT ON TABLE resources IS 'Published files/datasets found for an obligation.';

CREATE TABLE findings (
    finding_id        VARCHAR PRIMARY KEY,
    run_id            VARCHAR NOT NULL,
    subject_id        VARCHAR NOT NULL,
    obligation_id     VARCHAR,
    -- the finding vocabulary of DESIGN section 7 (audit/findings.py); a new code needs a
    -- migration, which is the point: analysts and reports rely on the list
    code              VARCHAR NOT NULL CHECK (code IN (
        'PORTAL_UNREACHABLE', 'TLS_INVALID', 'ROBOTS_DISALLOWED', 'ACCESS_BLOCKED',
        'JS_REQUIRED', 'NO_TRANSPARENCY_SECTION', 'DELEGATES_TO_PNT',
        'OBLIGATION_MISSING', 'JUSTIFIED_ABSENCE', 'HARD_TO_FIND', 'LINK_BROKEN',
        'SOFT_404', 'OUTDATED', 'NOT_MACHINE_READABLE', 'SCANNED_DOCUMENT',
        'FORMAT_MISMATCH', 'MISSING_COLUMNS', 'EMPTY_DATASET', 'DATA_QUALITY',
        'DEAD_HYPERLINKS', 'ENCODING_ERROR', 'REMOVED_EARLY', 'SILENT_EDIT')),
    severity          VARCHAR NOT NULL CHECK (severity IN (
                          'critical', 'high', 'medium', 'low', 'info')),
    message           VARCHAR NOT NULL,
    evidence_url      VARCHAR
);
COMMENT ON TABLE findings IS 'Opacity and usefulness findings; obligation_id is NULL for portal-level ones.';

CREATE TABLE expectation_results (
    run_id              VARCHAR NOT NULL,
    subject_id          VARCHAR NOT NULL,
    obligation_id       VARCHAR,
    resource_url        VARCHAR NOT NULL,
    suite               VARCHAR NOT NULL,
    expectation         VARCHAR NOT NULL,
    column_name         VARCHAR,
    success             BOOLEAN NOT NULL,
    unexpected_percent  DOUBLE,
    details             VARCHAR
);
COMMENT ON TABLE expectation_results IS 'Data-quality expectation outcomes per published dataset.';

CREATE TABLE scores (
    run_id            VARCHAR NOT NULL,
    subject_id        VARCHAR NOT NULL,
    presence          DOUBLE,
    usefulness        DOUBLE,
    index_0_100       DOUBLE CHECK (index_0_100 BETWEEN 0 AND 100),
    computed_at       TIMESTAMP,
    PRIMARY KEY (run_id, subject_id)
);
COMMENT ON TABLE scores IS 'Per-subject scores of a run, computed in SQL after loading.';

CREATE TABLE registry_errors (
    run_id            VARCHAR NOT NULL,
    line              INTEGER,
    column_name       VARCHAR,
    value             VARCHAR,
    message           VARCHAR NOT NULL
);
COMMENT ON TABLE registry_errors IS 'Registry rows skipped by a run, with their CSV line number.';

-- The last run that finished successfully.
CREATE VIEW latest_run AS
SELECT *
FROM runs
WHERE status = 'success'
ORDER BY started_at DESC NULLS LAST, run_id DESC
LIMIT 1;

-- Presence verdicts with the subject and the obligation spelled out, status in Spanish.
CREATE VIEW v_obligation_status AS
SELECT
    c.run_id,
    r.as_of,
    r.law,
    c.subject_id,
    s.name AS subject_name,
    s.acronym,
    s.level,
    s.state,
    s.subject_type,
    c.obligation_id,
    o.article,
    o.fraction,
    o.subformat,
    o.title AS obligation_title,
    o.update_period,
    c.status,
    CASE c.status
        WHEN 'present' THEN 'Publicada'
        WHEN 'justified' THEN 'Ausencia justificada'
        WHEN 'missing' THEN 'No publicada'
        WHEN 'blocked' THEN 'Acceso bloqueado'
        WHEN 'unreachable' THEN 'Inaccesible'
        WHEN 'not_applicable' THEN 'No aplica'
    END AS status_es,
    c.evidence_url,
    c.depth,
    c.via,
    c.note
FROM obligation_checks AS c
LEFT JOIN runs AS r ON r.run_id = c.run_id
LEFT JOIN subjects AS s ON s.subject_id = c.subject_id
LEFT JOIN obligations AS o ON o.law = r.law AND o.obligation_id = c.obligation_id;

-- Findings with the subject (and obligation title, when obligation-level) spelled out.
CREATE VIEW v_findings AS
SELECT
    f.finding_id,
    f.run_id,
    r.as_of,
    f.subject_id,
    s.name AS subject_name,
    s.acronym,
    s.level,
    s.state,
    s.subject_type,
    f.obligation_id,
    o.title AS obligation_title,
    f.code,
    f.severity,
    CASE f.severity
        WHEN 'critical' THEN 1 WHEN 'high' THEN 2 WHEN 'medium' THEN 3
        WHEN 'low' THEN 4 WHEN 'info' THEN 5
    END AS severity_rank,
    f.message,
    f.evidence_url
FROM findings AS f
LEFT JOIN runs AS r ON r.run_id = f.run_id
LEFT JOIN subjects AS s ON s.subject_id = f.subject_id
LEFT JOIN obligations AS o ON o.law = r.law AND o.obligation_id = f.obligation_id;
