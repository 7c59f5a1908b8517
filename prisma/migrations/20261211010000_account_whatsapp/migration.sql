-- Inbound WhatsApp messages find their accounts by WhatsApp number (or by phone, indexed
-- already). Partial: most accounts have none, and a portfolio import pays nothing for them.
CREATE INDEX "accounts_whatsapp_idx" ON "accounts" ("whatsapp") WHERE "whatsapp" IS NOT NULL;
