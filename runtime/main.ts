// `npm start`: runs the whole product on embedded defaults until SIGINT or SIGTERM.
import { ConfigError, loadConfig } from "./config.ts";
import { handOverShutdownSignals } from "./embedded-postgres.ts";
import { createLogger } from "./logger.ts";
import { startStack } from "./stack.ts";
import { installTemporalLogs } from "./temporal-logs.ts";

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`tagih: ${error.message}`);
  process.exit(1);
}
const logger = createLogger(config.logLevel);
installTemporalLogs(logger);
const stack = await startStack(config, logger).catch((error: unknown) => {
  logger.fatal({ err: error }, "Tagih could not start");
  process.exit(1);
});

const lines = [
  config.role === "worker" ? `Tagih worker is running on task queue ${config.taskQueue}` : "Tagih is running",
  config.role === "worker" ? "" : `  API             http://localhost:${config.port}`,
  config.role === "worker" ? "" : `  API docs        http://localhost:${config.port}/docs`,
  config.role === "worker" ? "" : `  Dashboard       http://localhost:${config.port}/dashboard`,
  stack.temporalUiUrl ? `  Temporal UI     ${stack.temporalUiUrl}` : `  Temporal        ${stack.temporalAddress}`,
  // A secret: printed here once, never logged.
  stack.generatedAdminKey ? `  Admin API key   ${stack.generatedAdminKey}  (shown once: keep it; create more keys with POST /v1/api-keys)` : "",
  stack.sandbox ? `  Vendor sandbox  ${stack.sandbox.url}/sandbox/messages  (vendors without credentials send here)` : "",
  "Press Ctrl-C to stop.",
].filter(Boolean);
console.log(lines.join("\n"));

let stopping = false;
// The stack stops in order, PostgreSQL and the Temporal dev server last, then the process exits.
handOverShutdownSignals();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    stack
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, "error while stopping");
        process.exit(1);
      });
  });
}
