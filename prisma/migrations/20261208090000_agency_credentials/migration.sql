-- Agency callback credentials can be rotated (the replaced key and secret keep working for
-- 24 hours, so callbacks in flight still verify) and revoked (no callback accepted at all).
-- AlterTable
ALTER TABLE "agencies" ADD COLUMN     "credentials_revoked_at" TIMESTAMPTZ(3),
ADD COLUMN     "credentials_rotated_at" TIMESTAMPTZ(3),
ADD COLUMN     "previous_api_key_hash" TEXT,
ADD COLUMN     "previous_secret" TEXT,
ADD COLUMN     "previous_valid_until" TIMESTAMPTZ(3);

-- CreateIndex
CREATE UNIQUE INDEX "agencies_previous_api_key_hash_key" ON "agencies"("previous_api_key_hash");
