import { PrismaPg } from "@prisma/adapter-pg";
import { defineConfig } from "prisma/config";
import { postgresConfig } from "./runtime/database-url.ts";

// Prisma 6.19 with the JS schema engine and a driver adapter works offline; the native
// engines would be downloaded from the vendor's host. The adapter takes a config object
// (not a connection string) so shadow-database code paths use the right database.
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL must be set to run Prisma commands");
    return new PrismaPg(postgresConfig(url));
  },
});
