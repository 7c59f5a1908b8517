-- Every send looks for the callbacks that reached us before the vendor's id was stored
-- (pending ones). Without these, each send scanned the whole callbacks table, which grows by
-- two or more rows per message. Only pending rows are indexed, so the indexes stay small.
-- Retries of a call or an email look up what the vendor already reported for the attempt.
-- (Hand-written: Prisma 6 has no expression or partial indexes.)
CREATE INDEX "callbacks_pending_twilio_messages_idx" ON "callbacks" ((payload ->> 'MessageSid')) WHERE "vendor" = 'twilio' AND "kind" = 'message-status' AND "applied_at" IS NULL;
CREATE INDEX "callbacks_pending_twilio_calls_idx" ON "callbacks" ((payload ->> 'CallSid')) WHERE "vendor" = 'twilio' AND "kind" = 'call-status' AND "applied_at" IS NULL;
CREATE INDEX "callbacks_pending_sendgrid_idx" ON "callbacks" ((split_part(payload ->> 'sg_message_id', '.', 1))) WHERE "vendor" = 'sendgrid' AND "applied_at" IS NULL;
CREATE INDEX "callbacks_twilio_voice_url_attempt_idx" ON "callbacks" ((payload ->> 'AttemptId')) WHERE "vendor" = 'twilio' AND "kind" = 'voice-url';
CREATE INDEX "callbacks_sendgrid_attempt_idx" ON "callbacks" ((payload ->> 'attemptId')) WHERE "vendor" = 'sendgrid';
