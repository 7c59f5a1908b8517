import type { LogLevel, LogMetadata, Logger as SdkLogger } from "@temporalio/common";
import { Runtime } from "@temporalio/worker";
import type { Logger } from "./logger.ts";

const LEVELS = { TRACE: "trace", DEBUG: "debug", INFO: "info", WARN: "warn", ERROR: "error" } as const;

/**
 * The Temporal SDK's logger, writing our JSON records (personal data masked) instead of its
 * own multi-line text on stderr, which log shippers split into one event per line. Its
 * `error` metadata becomes pino's `err`, stack included.
 */
export function sdkLoggerOf(logger: Logger): SdkLogger {
  const log = (level: LogLevel, message: string, meta: LogMetadata = {}) => {
    const { error, ...fields } = meta;
    logger[LEVELS[level]]({ ...fields, ...(error === undefined ? {} : { err: error }) }, message);
  };
  return {
    log,
    trace: (message, meta) => log("TRACE", message, meta),
    debug: (message, meta) => log("DEBUG", message, meta),
    info: (message, meta) => log("INFO", message, meta),
    warn: (message, meta) => log("WARN", message, meta),
    error: (message, meta) => log("ERROR", message, meta),
  };
}

/**
 * Routes the SDK's logs, its native core's included, through `logger`. Once per process,
 * before the first Temporal connection or worker.
 */
export function installTemporalLogs(logger: Logger): void {
  Runtime.install({
    logger: sdkLoggerOf(logger.child({ component: "temporal" })),
    telemetryOptions: { logging: { filter: { core: "WARN", other: "ERROR" }, forward: {} } },
  });
}
