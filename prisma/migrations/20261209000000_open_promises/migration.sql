-- The hourly promise settlement reads only the promises still open.
-- (Hand-written: Prisma 6 has no partial indexes.)
CREATE INDEX "promises_open_idx" ON "promises" ("due_date") WHERE "status" = 'open';
