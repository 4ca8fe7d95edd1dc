"""Great Expectations suites for published SIPOT datasets, and the runner that applies them."""
