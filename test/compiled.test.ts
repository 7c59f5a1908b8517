// The product as `npm start` runs it: compiled to dist/ (setup builds it), with no TypeScript
// loader. What only the compiled layout can break is checked here: files found from the
// repository's root (shipped templates, routines), the import's validation thread, and the
// assets the docs and the dashboard serve from node_modules. The worker's side (its workflow
// bundle built from dist/) runs in test/worker-crash.test.ts.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { repoRoot } from "../runtime/config.ts";
import { postgresConfig } from "../runtime/database-url.ts";
import { freePort } from "./ports.ts";
import { eventually } from "./stack.ts";

const adminKey = `tagih_adm_test_${randomBytes(24).toString("base64url")}`;
let child: ChildProcess;
let apiUrl: string;
let output = "";

beforeAll(async () => {
  const main = join(repoRoot, "dist", "runtime", "main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: \`npm test\` builds it in its set-up, \`npm run build\` alone too`);
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [main], {
    cwd: repoRoot,
    env: {
      ...process.env,
      TAGIH_ROLE: "api",
      TAGIH_ADMIN_API_KEY: adminKey,
      LOG_LEVEL: "warn",
      PORT: String(port),
      TAGIH_SANDBOX_PORT: String(await freePort()),
      DATABASE_URL: inject("databaseUrl"),
      TEMPORAL_ADDRESS: inject("temporalAddress"),
      TEMPORAL_TASK_QUEUE: `compiled-${randomUUID()}`,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk: Buffer) => void (output = (output + String(chunk)).slice(-4000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`dist/runtime/main.js exited with ${child.exitCode}: ${output}`);
      return (await fetch(`${apiUrl}/healthz`)).ok || undefined;
    },
    "the compiled API to answer",
    60_000,
  );
});
afterAll(() => {
  child?.kill("SIGTERM");
});

const call = (method: string, path: string, body?: string, contentType = "application/json") =>
  fetch(`${apiUrl}${path}`, { method, headers: { authorization: `Bearer ${adminKey}`, "content-type": contentType }, body });

describe("the compiled product (dist/)", () => {
  it("imports a CSV on its validation thread and renders a shipped template for the account", async () => {
    const externalId = `DIST-${randomUUID()}`;
    const csv = `external_id;name;phone;country;time_zone;product;currency;balance;days_past_due\n${externalId};Budi Santoso;0812-3456-7890;ID;Asia/Jakarta;credit-card;IDR;1500000.50;12\nBAD-${externalId};Asha Rao;12;IN;Asia/Kolkata;personal-loan;INR;25000;40\n`;
    const imported = await call("POST", "/v1/accounts/import", csv, "text/csv");
    expect(imported.status, output).toBe(200);
    expect(await imported.json()).toMatchObject({ status: "completed", imported: 1, rejectedCount: 1, rejected: [{ row: 3, field: "phone" }] });

    const db = new pg.Client(postgresConfig(inject("databaseUrl")));
    await db.connect();
    const account = await db
      .query<{ id: string; phone: string }>("SELECT id, phone FROM accounts WHERE external_id = $1", [externalId])
      .finally(() => db.end());
    expect(account.rows).toEqual([{ id: expect.any(String), phone: "+6281234567890" }]);

    const preview = await call("POST", "/v1/templates/preview", JSON.stringify({ accountId: account.rows[0]!.id, name: "reminder", channel: "sms" }));
    expect(preview.status, output).toBe(200);
    expect(await preview.json()).toMatchObject({ source: "shipped", locale: "en", text: expect.stringContaining("Budi") });
  });

  it("serves the API's documentation and the dashboard's chart library", async () => {
    const docs = await fetch(`${apiUrl}/docs/swagger-ui-bundle.js`);
    expect(docs.status).toBe(200);
    expect((await docs.text()).length).toBeGreaterThan(100_000);
    const chart = await call("GET", "/dashboard/assets/chart.js");
    expect(chart.status).toBe(200);
    expect(await chart.text()).toContain("Chart");
  });
});
