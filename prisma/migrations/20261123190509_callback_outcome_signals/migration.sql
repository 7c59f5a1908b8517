-- AlterTable
ALTER TABLE "callbacks" ADD COLUMN     "signal" JSONB,
ADD COLUMN     "signalled_at" TIMESTAMPTZ(3);

-- Signals still owed, oldest first, for the sweeper (hand-written: Prisma 6 has no partial indexes).
CREATE INDEX "callbacks_unsignalled_idx" ON "callbacks" ("received_at") WHERE "signal" IS NOT NULL AND "signalled_at" IS NULL;
