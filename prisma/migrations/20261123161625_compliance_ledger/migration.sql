-- DropIndex
DROP INDEX "contact_attempts_enrolment_id_step_id_key";

-- AlterTable
ALTER TABLE "accounts" ADD COLUMN     "consent_autodialed" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "consent_whatsapp" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "enrolments" ADD COLUMN     "variant" TEXT NOT NULL DEFAULT 'champion';

-- AlterTable
-- Existing attempts take their account from their enrolment before the column is required.
ALTER TABLE "contact_attempts" ADD COLUMN     "account_id" UUID,
ADD COLUMN     "conversation_at" TIMESTAMPTZ(3);
UPDATE "contact_attempts" a SET "account_id" = e."account_id" FROM "enrolments" e WHERE e."id" = a."enrolment_id";
ALTER TABLE "contact_attempts" ALTER COLUMN "account_id" SET NOT NULL;

-- CreateTable
CREATE TABLE "opt_outs" (
    "account_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "opt_outs_pkey" PRIMARY KEY ("account_id","channel")
);

-- CreateTable
CREATE TABLE "account_holds" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "released_at" TIMESTAMPTZ(3),

    CONSTRAINT "account_holds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "compliance_decisions" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "enrolment_id" UUID,
    "step_id" TEXT,
    "channel" TEXT NOT NULL,
    "evaluated_at" TIMESTAMPTZ(3) NOT NULL,
    "allowed" BOOLEAN NOT NULL,
    "reasons" JSONB NOT NULL,
    "next_allowed_at" TIMESTAMPTZ(3),
    "policy" TEXT NOT NULL,
    "attempt_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "compliance_decisions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "promises" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "enrolment_id" UUID,
    "amount_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "due_date" DATE NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "source" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "promises_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "account_holds_account_id_idx" ON "account_holds"("account_id");

-- CreateIndex
CREATE INDEX "compliance_decisions_account_id_evaluated_at_idx" ON "compliance_decisions"("account_id", "evaluated_at");

-- CreateIndex
CREATE INDEX "promises_account_id_idx" ON "promises"("account_id");

-- CreateIndex
CREATE INDEX "contact_attempts_account_id_created_at_idx" ON "contact_attempts"("account_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "contact_attempts_enrolment_id_step_id_channel_key" ON "contact_attempts"("enrolment_id", "step_id", "channel");

-- AddForeignKey
ALTER TABLE "opt_outs" ADD CONSTRAINT "opt_outs_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_holds" ADD CONSTRAINT "account_holds_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "compliance_decisions" ADD CONSTRAINT "compliance_decisions_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promises" ADD CONSTRAINT "promises_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

