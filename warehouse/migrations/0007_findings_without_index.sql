-- findings without the PRIMARY KEY on finding_id. The key kept an ART index over every
-- finding ever loaded, which each load had to check and extend: in the 1M-finding benchmark
-- the key and the CHECKs made inserting the findings 2.1x copying them, and the index only
-- grows with every quarterly run. finding_id stays unique without it: it hashes the run, the
-- subject, the obligation, the code and the evidence URL (audit.findings.Finding), and the
-- loader keeps one row per finding_id within a run (warehouse.loader: a repeated key is
-- looked for before every insert). finding_id is NOT NULL; the code and severity CHECKs
-- stay: they are the vocabulary analysts rely on. DuckDB cannot drop a constraint, so the
-- table is rebuilt (views bind by name and need no change).

CREATE TABLE findings_rebuilt (
    finding_id        VARCHAR NOT NULL,
    run_id            VARCHAR NOT NULL,
    subject_id        VARCHAR NOT NULL,
    obligation_id     VARCHAR,
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
INSERT INTO findings_rebuilt
SELECT finding_id, run_id, subject_id, obligation_id, code, severity, message, evidence_url
FROM findings ORDER BY run_id, subject_id, finding_id;
DROP TABLE findings;
ALTER TABLE findings_rebuilt RENAME TO findings;
COMMENT ON TABLE findings IS 'Opacity and usefulness findings; obligation_id is NULL for portal-level ones. finding_id is unique (a hash of run, subject, obligation, code and evidence URL; the loader keeps one row per id).';
