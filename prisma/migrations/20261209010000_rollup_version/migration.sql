-- Which definitions the MIS rollup was counted under (prisma/routines/rollup-version.sql
-- recounts it when they change).
ALTER TABLE "report_settings" ADD COLUMN "rollup_version" INTEGER NOT NULL DEFAULT 0;

-- A vendor's refusal of a send (an invalid number, a 4xx) now records when the vendor was
-- asked, as an accepted send does: the reports count it attempted. Refusals of ours before
-- any vendor call (these codes) stay without one: never attempted.
UPDATE "contact_attempts" SET "sent_at" = "updated_at"
 WHERE "sent_at" IS NULL AND "vendor_id" IS NULL AND "status" = 'failed'
   AND "error_code" NOT IN ('no-phone', 'no-email', 'no-whatsapp', 'whatsapp-template-required', 'template-error', 'voice-template-error', 'channel-unavailable');
