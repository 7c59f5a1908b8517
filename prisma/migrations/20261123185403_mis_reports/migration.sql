-- campaigns.attribution, read by the rollup's triggers, comes with campaign management.
-- AlterTable
ALTER TABLE "enrolments" ADD COLUMN     "balance_minor_at_start" BIGINT,
ADD COLUMN     "days_past_due_at_start" INTEGER,
ADD COLUMN     "touched_at" TIMESTAMPTZ(3),
ADD COLUMN     "contacted_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "contact_attempts" ADD COLUMN     "opted_out_at" TIMESTAMPTZ(3),
ADD COLUMN     "units" INTEGER;

-- AlterTable
ALTER TABLE "promises" ADD COLUMN     "attempt_id" UUID;

-- CreateTable
CREATE TABLE "campaign_daily_facts" (
    "campaign_id" UUID NOT NULL,
    "variant" TEXT NOT NULL,
    "step_id" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "dpd_bucket" TEXT NOT NULL,
    "agency" TEXT NOT NULL,
    "market" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "shard" SMALLINT NOT NULL,
    "enrolled" BIGINT NOT NULL DEFAULT 0,
    "outstanding_minor" BIGINT NOT NULL DEFAULT 0,
    "touched" BIGINT NOT NULL DEFAULT 0,
    "contacted" BIGINT NOT NULL DEFAULT 0,
    "attempted" BIGINT NOT NULL DEFAULT 0,
    "delivered" BIGINT NOT NULL DEFAULT 0,
    "undelivered" BIGINT NOT NULL DEFAULT 0,
    "opened" BIGINT NOT NULL DEFAULT 0,
    "clicked" BIGINT NOT NULL DEFAULT 0,
    "replied" BIGINT NOT NULL DEFAULT 0,
    "opted_out" BIGINT NOT NULL DEFAULT 0,
    "connected" BIGINT NOT NULL DEFAULT 0,
    "rpc" BIGINT NOT NULL DEFAULT 0,
    "units" BIGINT NOT NULL DEFAULT 0,
    "promises" BIGINT NOT NULL DEFAULT 0,
    "promised_minor" BIGINT NOT NULL DEFAULT 0,
    "promises_due" BIGINT NOT NULL DEFAULT 0,
    "promises_kept" BIGINT NOT NULL DEFAULT 0,
    "conversions" BIGINT NOT NULL DEFAULT 0,
    "payments" BIGINT NOT NULL DEFAULT 0,
    "recovered_minor" BIGINT NOT NULL DEFAULT 0,
    "recovered_linear_minor" DECIMAL(24,6) NOT NULL DEFAULT 0,
    "unattributed_minor" BIGINT NOT NULL DEFAULT 0,
    "collected_minor" BIGINT NOT NULL DEFAULT 0,
    "commission_minor" BIGINT NOT NULL DEFAULT 0,
    "placed" BIGINT NOT NULL DEFAULT 0,
    "placed_minor" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "campaign_daily_facts_pkey" PRIMARY KEY ("campaign_id","variant","step_id","channel","day","dpd_bucket","agency","market","currency","shard")
);

-- CreateTable
CREATE TABLE "account_outcome_facts" (
    "id" BIGSERIAL NOT NULL,
    "account_id" UUID NOT NULL,
    "campaign_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "payment_id" UUID,
    "promise_id" UUID,
    "attempt_id" UUID,
    "variant" TEXT NOT NULL,
    "step_id" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "dpd_bucket" TEXT NOT NULL,
    "agency" TEXT NOT NULL,
    "market" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "amount_minor" DECIMAL(24,6) NOT NULL,
    "conversions" INTEGER NOT NULL DEFAULT 0,
    "commission_minor" BIGINT NOT NULL DEFAULT 0,
    "promises_kept" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "account_outcome_facts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account_bucket_snapshots" (
    "month" DATE NOT NULL,
    "account_id" UUID NOT NULL,
    "dpd_bucket" TEXT NOT NULL,
    "days_past_due" INTEGER NOT NULL,
    "balance_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "taken_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_bucket_snapshots_pkey" PRIMARY KEY ("month","account_id")
);

-- CreateTable
CREATE TABLE "report_settings" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "time_zone" TEXT NOT NULL DEFAULT 'UTC',
    "first_contact_sla_days" INTEGER NOT NULL DEFAULT 3,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "report_settings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "unit_cost_versions" (
    "id" UUID NOT NULL,
    "market" TEXT NOT NULL,
    "effective_from" DATE NOT NULL,
    "costs" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "unit_cost_versions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "account_outcome_facts_account_id_idx" ON "account_outcome_facts"("account_id");

-- CreateIndex
CREATE INDEX "account_outcome_facts_campaign_id_kind_idx" ON "account_outcome_facts"("campaign_id", "kind");

-- CreateIndex
CREATE INDEX "account_bucket_snapshots_month_dpd_bucket_idx" ON "account_bucket_snapshots"("month", "dpd_bucket");

-- CreateIndex
CREATE UNIQUE INDEX "unit_cost_versions_market_effective_from_key" ON "unit_cost_versions"("market", "effective_from");

-- CreateIndex
CREATE INDEX "enrolments_account_id_idx" ON "enrolments"("account_id");

-- CreateIndex
CREATE INDEX "placements_account_id_idx" ON "placements"("account_id");



-- The one row of report settings.
INSERT INTO "report_settings" ("id", "updated_at") VALUES (1, now()) ON CONFLICT DO NOTHING;
