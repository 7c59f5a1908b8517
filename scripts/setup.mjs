#!/usr/bin/env node
// Installs what `npm start` / `npm test` need, into project-local git-ignored folders,
// skipping every step whose inputs have not changed. Plain Node (no dependencies): it
// runs before node_modules exists. Usage: node scripts/setup.mjs [--test]
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync, rmSync } from "node:fs";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tools = join(root, ".tools");
const stamps = join(tools, "stamps");
const forTests = process.argv.includes("--test");
const TEMPORAL_CLI = "github.com/temporalio/cli/cmd/temporal@v1.5.1";
const TEST_SERVER_VERSION = "1.38.0";
const started = Date.now();

function fail(line) {
  console.error(`tagih setup: ${line}`);
  process.exit(1);
}
function log(line) {
  console.log(`tagih setup: ${line}`);
}
function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: "inherit", ...options });
  return result.status === 0;
}
function onPath(cmd) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}
// Names count as well as contents: a file renamed or moved changes what a step produces.
function hashOf(...files) {
  const h = createHash("sha256");
  for (const f of files) h.update(`${relative(root, f)}\0`).update(existsSync(f) ? readFileSync(f) : "");
  return h.digest("hex");
}
function stamped(name, hash) {
  const file = join(stamps, name);
  return existsSync(file) && readFileSync(file, "utf8") === hash;
}
function stamp(name, hash) {
  mkdirSync(stamps, { recursive: true });
  writeFileSync(join(stamps, name), hash);
}

// 1. npm dependencies, reinstalled only when the lock file or a patch changed. The patches in
// patches/ fix dependencies in place (each says why) until their maintainers ship the fix.
const lock = join(root, "package-lock.json");
const patches = join(root, "patches");
const patchFiles = existsSync(patches)
  ? readdirSync(patches)
      .sort()
      .map((f) => join(patches, f))
  : [];
const npmHash = hashOf(lock, join(root, "package.json"), ...patchFiles);
if (!existsSync(join(root, "node_modules")) || !stamped("npm", npmHash)) {
  log("installing npm dependencies");
  if (!run("npm", [existsSync(lock) ? "ci" : "install", "--no-audit", "--no-fund"])) {
    fail("npm dependencies could not be installed; check access to the npm registry and run `npm ci`");
  }
  if (!run(join(root, "node_modules", ".bin", "patch-package"), ["--error-on-fail"])) fail("the patches in patches/ could not be applied to node_modules");
  stamp("npm", npmHash);
}

// 2. Temporal CLI (dev server with SQLite persistence and the web UI), unless an external
// Temporal is configured. Built from the Go module proxy; a `temporal` on PATH also works.
const toolPaths = existsSync(join(tools, "tools.json")) ? JSON.parse(readFileSync(join(tools, "tools.json"), "utf8")) : {};
const needsTemporalCli = forTests || !process.env.TEMPORAL_ADDRESS;
if (needsTemporalCli) {
  const local = join(tools, "bin", "temporal");
  let temporal = existsSync(local) ? local : (process.env.TAGIH_TEMPORAL_CLI ?? onPath("temporal"));
  if (!temporal) {
    if (!onPath("go")) {
      fail(
        "the Temporal CLI is missing and Go is not installed to build it: install Go 1.24+, put `temporal` on PATH, or set TEMPORAL_ADDRESS to an existing Temporal server",
      );
    }
    log(`building the Temporal CLI from the Go module proxy (first run only, a few minutes): ${TEMPORAL_CLI}`);
    const env = { ...process.env, GOBIN: join(tools, "bin"), GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" };
    if (!run("go", ["install", TEMPORAL_CLI], { env })) {
      fail(`building ${TEMPORAL_CLI} failed; put a \`temporal\` CLI on PATH or set TEMPORAL_ADDRESS`);
    }
    temporal = local;
  }
  toolPaths.temporal = temporal;
}

// 3. Temporal's time-skipping test server (Java) from Maven Central, for workflow tests.
if (forTests) {
  const dir = join(tools, "test-server");
  const libs = join(dir, "lib");
  const launcher = join(dir, "run.sh");
  if (!stamped("test-server", TEST_SERVER_VERSION) || !existsSync(libs)) {
    if (!onPath("java") || !onPath("mvn")) {
      fail(
        "Java 17+ and Maven are needed once to fetch Temporal's time-skipping test server from Maven Central; install them (e.g. `apt install default-jdk maven`)",
      );
    }
    log(`fetching io.temporal:temporal-test-server:${TEST_SERVER_VERSION} from Maven Central`);
    mkdirSync(dir, { recursive: true });
    rmSync(libs, { recursive: true, force: true });
    writeFileSync(
      join(dir, "pom.xml"),
      `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>tagih</groupId><artifactId>test-server-fetch</artifactId><version>1</version>
<dependencies><dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId>
<version>${TEST_SERVER_VERSION}</version></dependency></dependencies></project>\n`,
    );
    if (!run("mvn", ["-q", "-B", "dependency:copy-dependencies", "-DoutputDirectory=lib", "-DincludeScope=runtime"], { cwd: dir })) {
      fail("fetching the Temporal test server with Maven failed; check access to Maven Central");
    }
    stamp("test-server", TEST_SERVER_VERSION);
  }
  // The SDK runs this file directly and kills only that process: `exec` keeps the JVM
  // from outliving the tests; the JIT flags make it listen within the SDK's start-up wait.
  writeFileSync(
    launcher,
    '#!/bin/sh\nexec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$(dirname "$0")/lib/*" io.temporal.testserver.TestServer "$@"\n',
    { mode: 0o755 },
  );
  toolPaths.testServer = launcher;
  if (!readdirSync(libs).some((f) => f.startsWith("temporal-test-server")))
    fail("the Temporal test server jar is missing from .tools/test-server/lib; delete .tools/stamps/test-server and retry");
}

// 4. Chromium for the dashboard's browser tests: Debian's package, driven by playwright-core.
const CHROMIUM = "/usr/bin/chromium";
if (forTests && !existsSync(CHROMIUM)) {
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? [] : ["sudo", "-n"];
  if (!isRoot && !onPath("sudo")) {
    fail(`${CHROMIUM} is missing and this user cannot install it: run \`apt-get install -y --no-install-recommends chromium\` as root`);
  }
  log("installing Chromium with apt-get (first run only)");
  const [cmd, ...prefix] = [...sudo, "apt-get"];
  const apt = (...args) => run(cmd, [...prefix, ...args], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (!apt("update", "-q") || !apt("install", "-y", "-q", "--no-install-recommends", "chromium") || !existsSync(CHROMIUM)) {
    fail(`installing Chromium failed: run \`apt-get install -y --no-install-recommends chromium\` as root so that ${CHROMIUM} exists`);
  }
}
mkdirSync(tools, { recursive: true });
writeFileSync(join(tools, "tools.json"), JSON.stringify(toolPaths, null, 2));

// 5. Prisma client, regenerated when the schema or the Prisma version changes.
const prismaHash = hashOf(join(root, "prisma", "schema.prisma"), join(root, "node_modules", "prisma", "package.json"));
if (!existsSync(join(root, "generated", "prisma", "client.ts")) || !stamped("prisma", prismaHash)) {
  log("generating the Prisma client");
  // `generate` never connects, but the CLI insists on a syntactically valid URL.
  const env = { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? "postgres://tagih@localhost:5432/tagih" };
  if (!run(join(root, "node_modules", ".bin", "prisma"), ["generate"], { env, stdio: ["ignore", "ignore", "inherit"] })) {
    fail("`prisma generate` failed");
  }
  stamp("prisma", prismaHash);
}

// 6. The product compiled to dist/ (`npm run build`), rebuilt when a source changed: `npm
// start` runs plain JavaScript, without a TypeScript loader in its processes and threads.
const sourceDirs = ["activities", "api", "bench", "dashboard", "domain", "generated", "runtime", "sandbox", "store", "templates", "vendors", "workflows"];
const sources = sourceDirs.flatMap((dir) =>
  (existsSync(join(root, dir)) ? readdirSync(join(root, dir), { recursive: true }) : []).map((f) => join(root, dir, f)),
);
const buildInputs = sources.filter((f) => /\.tsx?$/.test(f) && !f.endsWith(".test.ts")).sort();
const builtHash = hashOf(
  join(root, "tsconfig.json"),
  join(root, "tsconfig.build.json"),
  join(root, "node_modules", "typescript", "package.json"),
  ...buildInputs,
);
if (!existsSync(join(root, "dist", "runtime", "main.js")) || !stamped("build", builtHash)) {
  log("compiling the product to dist/");
  rmSync(join(root, "dist"), { recursive: true, force: true });
  if (!run(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"])) fail("compiling to dist/ failed: run `npm run build` to see why");
  stamp("build", builtHash);
}
log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
