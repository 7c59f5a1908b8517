-- AlterTable
ALTER TABLE "placements" ADD COLUMN     "close_notified_at" TIMESTAMPTZ(3),
ADD COLUMN     "close_reason" TEXT,
ADD COLUMN     "closed_at" TIMESTAMPTZ(3);
