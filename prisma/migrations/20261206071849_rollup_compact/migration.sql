-- The rollup's cells are updated in place by every attempt, callback, payment and promise
-- (prisma/routines/mis.sql). Pages filled to the brim sent each new version of a cell to
-- another page, so the table grew to many times its live rows (51 MB for 9,406 cells after a
-- rebuild) and every report scanned the dead space. Half-full pages keep a cell's new version
-- on its page (a HOT update, pruned without VACUUM), so the table stays near its live size.
ALTER TABLE "campaign_daily_facts" SET (fillfactor = 50);

-- Counts as 32-bit integers (a cell is one day of one step): PostgreSQL sums an integer in a
-- plain 64-bit accumulator and a bigint in a numeric one, and a report sums forty columns over
-- thousands of cells (a third faster). The change rewrites the table, honouring the fillfactor.
-- AlterTable
ALTER TABLE "campaign_daily_facts" ALTER COLUMN "enrolled" SET DATA TYPE INTEGER,
ALTER COLUMN "touched" SET DATA TYPE INTEGER,
ALTER COLUMN "contacted" SET DATA TYPE INTEGER,
ALTER COLUMN "attempted" SET DATA TYPE INTEGER,
ALTER COLUMN "delivered" SET DATA TYPE INTEGER,
ALTER COLUMN "undelivered" SET DATA TYPE INTEGER,
ALTER COLUMN "opened" SET DATA TYPE INTEGER,
ALTER COLUMN "clicked" SET DATA TYPE INTEGER,
ALTER COLUMN "replied" SET DATA TYPE INTEGER,
ALTER COLUMN "opted_out" SET DATA TYPE INTEGER,
ALTER COLUMN "connected" SET DATA TYPE INTEGER,
ALTER COLUMN "rpc" SET DATA TYPE INTEGER,
ALTER COLUMN "units" SET DATA TYPE INTEGER,
ALTER COLUMN "promises" SET DATA TYPE INTEGER,
ALTER COLUMN "promises_due" SET DATA TYPE INTEGER,
ALTER COLUMN "promises_kept" SET DATA TYPE INTEGER,
ALTER COLUMN "conversions" SET DATA TYPE INTEGER,
ALTER COLUMN "payments" SET DATA TYPE INTEGER,
ALTER COLUMN "placed" SET DATA TYPE INTEGER;
