-- The import and row that last wrote each account: a later row of the same file repeating
-- an external id is refused, naming the row that holds it.
ALTER TABLE "accounts" ADD COLUMN "import_id" UUID, ADD COLUMN "import_row" INTEGER;
