-- CreateEnum
CREATE TYPE "ImportStatus" AS ENUM ('running', 'completed', 'failed', 'rolled-back');

-- CreateTable
CREATE TABLE "imports" (
    "id" UUID NOT NULL,
    "status" "ImportStatus" NOT NULL DEFAULT 'running',
    "format" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "actor" TEXT,
    "rows" INTEGER NOT NULL DEFAULT 0,
    "imported" INTEGER NOT NULL DEFAULT 0,
    "updated" INTEGER NOT NULL DEFAULT 0,
    "rejected_count" INTEGER NOT NULL DEFAULT 0,
    "bytes_read" BIGINT NOT NULL DEFAULT 0,
    "bytes_total" BIGINT,
    "fingerprint" TEXT,
    "error" TEXT,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "imports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "import_rejections" (
    "id" BIGSERIAL NOT NULL,
    "import_id" UUID NOT NULL,
    "row" INTEGER NOT NULL,
    "field" TEXT NOT NULL,
    "reason" TEXT NOT NULL,

    CONSTRAINT "import_rejections_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "imports_started_at_id_idx" ON "imports"("started_at", "id");

-- CreateIndex
CREATE INDEX "import_rejections_import_id_id_idx" ON "import_rejections"("import_id", "id");

-- AddForeignKey
ALTER TABLE "import_rejections" ADD CONSTRAINT "import_rejections_import_id_fkey" FOREIGN KEY ("import_id") REFERENCES "imports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

