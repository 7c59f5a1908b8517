-- Payment notifications still waiting for their account, by the external id that account
-- creation and imports match them on (hand-written: Prisma 6 has no expression or partial indexes).
CREATE INDEX "callbacks_unmatched_payments_idx" ON "callbacks" ((payload ->> 'accountExternalId')) WHERE "vendor" = 'payments' AND "applied_at" IS NULL;
