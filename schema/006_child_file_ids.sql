-- 006_child_file_ids.sql: transfer children name their input file.
--
-- Before this version the rater stored a child's calls row with no file_id
-- (its source_file was set), so `--force` of that file superseded the
-- parent but left the child current, at the old price, and rejected the
-- re-rated child as a duplicate.  The rater now stores the child's file id;
-- this gives the children already stored theirs: the file of that path
-- loaded by the run that stored the row (exactly one such file, or the row
-- is left as it was).

UPDATE referee.calls c
SET file_id = i.file_id
FROM referee.input_files i
WHERE c.file_id IS NULL
  AND c.leg = 'child'
  AND c.source_file IS NOT NULL
  AND i.run_id = c.run_id
  AND i.path = c.source_file
  AND (SELECT count(*) FROM referee.input_files j
       WHERE j.run_id = c.run_id AND j.path = c.source_file) = 1;
