-- An IVR promise's callback now records when the account's journeys were told of it
-- (signalled_at), and a sweep tells those it could not. Promises recorded before were told
-- or logged then: they are marked so the sweep leaves them alone.
UPDATE "callbacks" SET "signalled_at" = "received_at" WHERE "kind" = 'promise' AND "signalled_at" IS NULL;
