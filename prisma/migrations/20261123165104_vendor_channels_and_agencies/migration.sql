-- AlterTable
ALTER TABLE "accounts" ADD COLUMN     "last_whatsapp_inbound_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "contact_attempts" ADD COLUMN     "clicked_at" TIMESTAMPTZ(3),
ADD COLUMN     "opened_at" TIMESTAMPTZ(3),
ADD COLUMN     "replied_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "agencies" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "secret" TEXT NOT NULL,
    "api_key_hash" TEXT NOT NULL,
    "commission_bps" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "agencies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "placements" (
    "id" UUID NOT NULL,
    "agency_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "enrolment_id" UUID,
    "step_id" TEXT,
    "amount_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'placed',
    "placed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "acknowledged_at" TIMESTAMPTZ(3),
    "recalled_at" TIMESTAMPTZ(3),

    CONSTRAINT "placements_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "agencies_name_key" ON "agencies"("name");

-- CreateIndex
CREATE UNIQUE INDEX "agencies_api_key_hash_key" ON "agencies"("api_key_hash");

-- CreateIndex
CREATE INDEX "placements_agency_id_placed_at_idx" ON "placements"("agency_id", "placed_at");

-- CreateIndex
CREATE UNIQUE INDEX "placements_enrolment_id_step_id_key" ON "placements"("enrolment_id", "step_id");

-- AddForeignKey
ALTER TABLE "placements" ADD CONSTRAINT "placements_agency_id_fkey" FOREIGN KEY ("agency_id") REFERENCES "agencies"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "placements" ADD CONSTRAINT "placements_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

