// The worker's workflow code as one webpack bundle. Bundling in the worker's own process cost
// it 100–130 MB of RSS it never gave back, so the worker loads a bundle built beforehand
// (TAGIH_WORKFLOW_BUNDLE, e.g. by the image build) or builds one in a short-lived child process.
// `node --import tsx runtime/workflow-bundle.ts OUT` (or `node dist/runtime/workflow-bundle.js OUT`) builds one into OUT.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorkflowCode } from "@temporalio/worker";
import { codePath, loaderFlags } from "./config.ts";
import type { Logger } from "./logger.ts";

const self = fileURLToPath(import.meta.url);
const workflowsPath = codePath("workflows/index.ts");

/** Writes the bundle of workflows/index.ts to `out` (through a temporary file, so a reader never sees half of it). */
export async function buildWorkflowBundle(out: string): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  await mkdir(dirname(out), { recursive: true });
  const temporary = `${out}.${process.pid}.tmp`;
  await writeFile(temporary, code);
  await rename(temporary, out);
}

/**
 * The path of the workflow bundle the worker loads: `prebuilt` when given, else one built
 * now into `dataDir` by a child process, whose memory goes when it exits.
 */
export async function workflowBundlePath(options: { prebuilt: string | undefined; dataDir: string; logger: Logger }): Promise<string> {
  if (options.prebuilt) {
    if (!existsSync(options.prebuilt)) throw new Error(`TAGIH_WORKFLOW_BUNDLE names ${options.prebuilt}, which does not exist`);
    return options.prebuilt;
  }
  const out = join(options.dataDir, "workflows.bundle.js");
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [...loaderFlags, self, out], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.once("error", (error) => reject(new Error(`could not start the workflow bundler (${self}): ${error.message}`)));
    child.once("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`bundling ${workflowsPath} failed (exit ${code ?? signal}): ${stderr.trim() || "no output"}`)),
    );
  });
  options.logger.info({ bundle: out, seconds: ((performance.now() - started) / 1000).toFixed(1) }, "workflow code bundled");
  return out;
}

// Webpack's progress lines stay quiet; its warnings and errors reach the parent's error message.
const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn: (message: string) => console.error(message),
  error: (message: string) => console.error(message),
};

if (process.argv[1] === self) {
  const out = process.argv[2];
  if (!out) {
    console.error(`usage: node ${[...loaderFlags, self].join(" ")} OUT`);
    process.exit(2);
  }
  await buildWorkflowBundle(out);
}
