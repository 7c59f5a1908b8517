-- CreateTable
CREATE TABLE "payment_resolutions" (
    "reference" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "account_id" UUID,
    "reason" TEXT,
    "resolved_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_resolutions_pkey" PRIMARY KEY ("reference")
);

