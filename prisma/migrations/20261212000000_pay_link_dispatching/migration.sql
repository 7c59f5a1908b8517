-- The sweep that finishes IVR payment-link texts a stopped process left half-sent looks for
-- them every few seconds: a partial index holds only those, never the millions of attempts.
CREATE INDEX "contact_attempts_pay_link_dispatching_idx" ON "contact_attempts" ("updated_at")
  WHERE "status" = 'dispatching' AND "step_id" LIKE '%:pay-link';
