-- A debtor's accounts are the accounts sharing a phone number: the compliance gate counts and
-- locks them together, and inbound messages find them by their number.
CREATE INDEX "accounts_phone_idx" ON "accounts"("phone");
