-- Usefulness audit: what the published files say about an obligation's currency, and which
-- official format each file follows.

ALTER TABLE obligation_checks ADD COLUMN latest_period_end DATE;
ALTER TABLE obligation_checks ADD COLUMN due_period_end DATE;
ALTER TABLE obligation_checks ADD COLUMN periods_behind INTEGER;
ALTER TABLE obligation_checks ADD COLUMN missing_years INTEGER[];
COMMENT ON COLUMN obligation_checks.latest_period_end IS 'Latest period end reported by the obligation''s readable datasets.';
COMMENT ON COLUMN obligation_checks.due_period_end IS 'End of the latest period that had to be published by the run''s as-of date.';
COMMENT ON COLUMN obligation_checks.periods_behind IS 'Update periods between the latest reported and the latest due (0: current).';
COMMENT ON COLUMN obligation_checks.missing_years IS 'Fiscal years the conservation period requires that no readable dataset covers.';

ALTER TABLE resources ADD COLUMN kind VARCHAR;
ALTER TABLE resources ADD COLUMN format_id VARCHAR;
ALTER TABLE resources ADD COLUMN format_score DOUBLE;
COMMENT ON COLUMN resources.kind IS 'What the reader made of the file: sipot_export, sipot_template, table, text, empty, unreadable.';
COMMENT ON COLUMN resources.format_id IS 'Official SIPOT format the header follows (audit.formats), when one matches.';
