-- An all-or-nothing import's valid rows, held until its whole file is read and then applied
-- in one short transaction: accounts are locked for that statement only, not for the upload.
-- Unlogged: an import a crash interrupts is not resumed, so its rows need no WAL.
CREATE UNLOGGED TABLE "import_staging" (
    "import_id" UUID NOT NULL,
    "external_id" TEXT NOT NULL,
    "row" INTEGER NOT NULL,
    "named" TEXT NOT NULL,
    "account" JSON NOT NULL,
    CONSTRAINT "import_staging_pkey" PRIMARY KEY ("import_id", "external_id")
);
