import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../runtime/config.ts";
import { eventually, startTestStack } from "./stack.ts";
import { zoneAtLocalHour } from "./zones.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let dir: string;
beforeAll(async () => {
  stack = await startTestStack();
  dir = await mkdtemp(join(tmpdir(), "tagih-cli-"));
});
afterAll(async () => {
  await stack?.stop();
});

/** Runs the real `tagih` command line against the test stack (or another `apiUrl`). */
function tagih(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return tagihAt(stack.apiUrl, ...args);
}

function tagihAt(apiUrl: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, "cli", "tagih.mjs"), ...args],
      { env: { ...process.env, TAGIH_API_URL: apiUrl, TAGIH_API_KEY: stack.adminKey } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("tagih command line", () => {
  it("reads a file in the charset named (Windows-1250 would pass for Windows-1252, misread)", async () => {
    const product = `cli-${randomUUID().slice(0, 8)}`;
    const file = join(dir, "polish.csv");
    const header = "externalId,name,jurisdiction,product,currency,balance,daysPastDue\n";
    // "Łukasz Śliwiński" in Windows-1250: Ł A3, Ś 8C, ń F1.
    const name = Buffer.from([0xa3, ...Buffer.from("ukasz "), 0x8c, ...Buffer.from("liwi"), 0xf1, ...Buffer.from("ski")]);
    await writeFile(file, Buffer.concat([Buffer.from(`${header}${product}-1,`), name, Buffer.from(`,GB,${product},GBP,10,3\n`)]));
    const run = await tagih("import", file, "--charset", "windows-1250");
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(await stack.db.account.findUnique({ where: { externalId: `${product}-1` } })).toMatchObject({ name: "Łukasz Śliwiński" });
  });

  it("says when the URL is not Tagih's API, and when an upload's connection was lost after reaching it", async () => {
    // A web page where the API should be; then a server that drops the upload half way.
    const page = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>login</html>"));
    const dropping = createServer((req) => req.once("data", () => req.socket.destroy()));
    for (const server of [page, dropping]) await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const notApi = await tagihAt(url(page), "campaign", "status", randomUUID());
      expect(notApi).toMatchObject({ code: 1, stderr: expect.stringContaining("not Tagih's JSON (is TAGIH_API_URL right?)") });
      const file = join(dir, "big.csv");
      await writeFile(file, "externalId,name,jurisdiction,product,currency,balance,daysPastDue\n" + "X,A,IN,card,INR,1,1\n".repeat(200_000));
      const lost = await tagihAt(url(dropping), "import", file);
      expect(lost.code).toBe(1);
      expect(lost.stderr).toContain("lost the connection");
      expect(lost.stderr).toContain("/v1/imports");
    } finally {
      for (const server of [page, dropping]) server.close();
    }
  });

  // Before: "Invalid URL" without naming the setting, and a campaign file with a typo was sent
  // anyway, answered "Malformed JSON in request body" with no file or line.
  it("names TAGIH_API_URL when it is no URL, and a campaign file that is not JSON, before sending anything", async () => {
    const badUrl = await tagihAt("not-a-url", "campaign", "status", randomUUID());
    expect(badUrl).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('TAGIH_API_URL must be the API\'s http or https address, such as http://localhost:3000 (it is "not-a-url")'),
    });
    const file = join(dir, "campaign.json");
    await writeFile(file, '{ "name": "December", "strategy": { "steps": [] }, }');
    const before = await stack.db.campaign.count();
    const typo = await tagih("campaign", "create", file);
    expect(typo).toMatchObject({ code: 1, stderr: expect.stringContaining(`${file} is not JSON:`) });
    expect(await stack.db.campaign.count()).toBe(before);
  });

  it("refuses a folder for a file and a count that is not one, without a stack trace", async () => {
    const folder = await tagih("import", dir);
    expect(folder).toMatchObject({ code: 1, stderr: expect.stringContaining("is not a file") });
    expect(folder.stderr).not.toContain("    at ");
    const show = await tagih("import", join(dir, "any.csv"), "--show", "abc");
    expect(show).toMatchObject({ code: 1, stderr: expect.stringContaining("must be a whole number") });
  });

  it("imports a file, printing the summary, the charset it was read in and the rejected rows", async () => {
    const product = `cli-${randomUUID().slice(0, 8)}`;
    const file = join(dir, "portfolio.csv");
    const zone = zoneAtLocalHour(12);
    await writeFile(
      file,
      [
        "external_id;name;phone;jurisdiction;time_zone;product;currency;balance;days_past_due",
        `${product}-1;José Rao;98765 43210;IN;${zone};${product};INR;2500.00;40`,
        `${product}-2;Ravi Kumar;98765 43211;IN;${zone};${product};INR;100;3`,
        `${product}-3;Bad Phone;123;IN;${zone};${product};INR;100;3`,
      ].join("\n"),
      "latin1", // as a spreadsheet on Windows saves "CSV"
    );
    const run = await tagih("import", file);
    expect(run.code).toBe(2); // completed with rejected rows
    expect(run.stdout).toMatch(/import [0-9a-f-]{36}: completed; 3 rows: 2 imported, 0 updated, 1 rejected/);
    expect(run.stdout).toContain("read as windows-1252");
    expect(run.stdout).toContain("row 4: phone is not a valid phone number for IN");
    expect(await stack.db.account.count({ where: { product } })).toBe(2);
    expect(await stack.db.account.findUnique({ where: { externalId: `${product}-1` } })).toMatchObject({ name: "José Rao" });

    const campaignFile = join(dir, "campaign.json");
    await writeFile(
      campaignFile,
      JSON.stringify({
        name: `CLI ${product}`,
        strategy: { steps: [{ id: "sms", kind: "contact", channel: "sms", template: "reminder" }] },
        segment: { products: [product] },
      }),
    );
    const created = await tagih("campaign", "create", campaignFile, "--launch");
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const id = /campaign ([0-9a-f-]{36}) created/.exec(created.stdout)?.[1];
    expect(id).toBeDefined();
    expect(created.stdout).toContain(`campaign ${id} launched`);

    const status = await eventually(async () => {
      const s = await tagih("campaign", "status", id!);
      return /enrolled\s+2/.test(s.stdout) ? s : undefined;
    }, "both accounts enrolled");
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`campaignId   ${id}`);

    const again = await tagih("campaign", "launch", id!);
    expect(again.stdout).toContain("was already launched");

    // The report as CSV; a file that cannot be written fails the command.
    const csv = join(dir, "report.csv");
    const report = await tagih("report", id!, "--by", "variant", "--csv", csv);
    expect(report).toMatchObject({ code: 0, stdout: expect.stringContaining(`report written to ${csv}`) });
    expect((await readFile(csv, "utf8")).split("\n")[0]).toMatch(/^variant,currency,enrolled,/);
    const nowhere = await tagih("report", id!, "--csv", join(dir, "no-such-folder", "report.csv"));
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain("cannot write");
    expect(nowhere.stdout).not.toContain("report written");
  });

  it("prints the problem and its fields and exits non-zero when the API refuses", async () => {
    const file = join(dir, "no-dpd.csv");
    await writeFile(file, "externalId,name,jurisdiction,product,currency,balance\nX-1,A,IN,card,INR,1\n");
    const run = await tagih("import", file, "--all-or-nothing");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("import failed (400 Invalid columns)");
    expect(run.stderr).toContain("columns.daysPastDue: is missing from the header row");

    const missing = await tagih("campaign", "status", randomUUID());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("404");
  });
});
