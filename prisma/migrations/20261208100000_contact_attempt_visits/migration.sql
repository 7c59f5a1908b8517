-- A strategy that branches back to a contact step ("retry until delivered") contacts again:
-- an attempt belongs to one arrival (visit) at its step, and is unique per step, visit and
-- channel. Existing attempts are each step's first visit.
-- AlterTable
ALTER TABLE "contact_attempts" ADD COLUMN     "visit" INTEGER NOT NULL DEFAULT 1;

-- CreateIndex (before the old one goes, so attempts are never without a unique key)
CREATE UNIQUE INDEX "contact_attempts_enrolment_id_step_id_channel_visit_key" ON "contact_attempts"("enrolment_id", "step_id", "channel", "visit");

-- DropIndex
DROP INDEX "contact_attempts_enrolment_id_step_id_channel_key";
