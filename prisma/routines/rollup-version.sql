-- Applied after the other routines (file names in order). The rollup is kept by triggers
-- that add and subtract each row's measures: once a measure's definition changes (mis.sql),
-- the counts already summed under the old one would be subtracted under the new. Raise the
-- version with every such change: the next start recounts the rollup from the raw tables,
-- once (minutes on a large portfolio, before the API and worker serve).
DO $$
DECLARE
  current_version CONSTANT int := 1; -- 1: attempts we refused before any vendor call are not attempted, vendor refusals not billed
BEGIN
  IF (SELECT rollup_version FROM report_settings WHERE id = 1) IS DISTINCT FROM current_version THEN
    PERFORM mis_rebuild();
    INSERT INTO report_settings (id, rollup_version, updated_at) VALUES (1, current_version, now())
      ON CONFLICT (id) DO UPDATE SET rollup_version = current_version;
  END IF;
END $$;
