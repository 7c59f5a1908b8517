// Progress lines on stderr, one readable line per record, so stdout carries only the table.
import { pino } from "pino";
import type { Logger } from "../runtime/logger.ts";

export function createBenchLogger(level = "info"): Logger {
  const stream = {
    write(line: string) {
      const { time, level: _level, msg, err, ...fields } = JSON.parse(line) as Record<string, unknown>;
      const details = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      const error = err && typeof err === "object" && "message" in err ? ` error=${String(err.message)}` : "";
      process.stderr.write(`${String(time).slice(11, 19)} ${String(msg ?? "")}${details ? ` ${details}` : ""}${error}\n`);
    },
  };
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}
