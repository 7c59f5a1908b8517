import { defineConfig } from "vitest/config";

// Two projects: pure unit tests run without any service; integration tests share one
// embedded PostgreSQL and one Temporal dev server started by the global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["{activities,api,dashboard,domain,runtime,sandbox,store,templates,vendors}/**/*.test.{ts,tsx}"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
