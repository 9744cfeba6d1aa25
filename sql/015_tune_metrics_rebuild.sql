-- A rebuild aggregates millions of rows in one statement per level; with the default 4 MB of
-- work_mem its hash aggregates spill to disk (the lawyer rollup of 1 M questions: 4.9 s, 3.1 s with
-- more memory). It runs rarely and alone (under the rollup lock), so it may use more.
ALTER FUNCTION metrics_rebuild(date, date, text, float8) SET work_mem = '128MB';
