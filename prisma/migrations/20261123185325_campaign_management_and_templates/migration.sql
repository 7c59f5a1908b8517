-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "attribution" JSONB NOT NULL DEFAULT '{"windowDays": {"sms": 7, "whatsapp": 7, "voice": 7, "email": 5}, "promiseGraceDays": 2}',
ADD COLUMN     "pinned_templates" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "schedule" JSONB NOT NULL DEFAULT '{}';

-- CreateTable
CREATE TABLE "templates" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "locale" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "body" TEXT NOT NULL,
    "content_sid" TEXT,
    "content_variables" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT,

    CONSTRAINT "templates_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "templates_name_channel_locale_version_key" ON "templates"("name", "channel", "locale", "version");

-- CreateIndex
CREATE INDEX "campaigns_created_at_id_idx" ON "campaigns"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "campaigns_status_created_at_id_idx" ON "campaigns"("status", "created_at" DESC, "id" DESC);

