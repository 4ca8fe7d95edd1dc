-- Results carried forward from an earlier run for files that did not change (304 Not
-- Modified): the file was neither downloaded nor read nor validated again. observed_run
-- names the run that actually read it (NULL: this run did).

ALTER TABLE resources ADD COLUMN observed_run VARCHAR;
ALTER TABLE expectation_results ADD COLUMN observed_run VARCHAR;
COMMENT ON COLUMN resources.observed_run IS 'Run that downloaded and read this file (NULL: this run); set when the server answered 304 Not Modified.';
COMMENT ON COLUMN expectation_results.observed_run IS 'Run whose validation of the unchanged dataset is carried forward (NULL: validated in this run).';
