import { calendarsEndingWithin } from "../domain/compliance/index.ts";
import type { Logger } from "./logger.ts";

/** Long enough to gather, check and ship a year's official holiday list. */
const WARN_DAYS = 90;
const DAY_MS = 86_400_000;

/**
 * Warns at start and then daily, from 90 days before a holiday calendar ends: past its last
 * year the gate blocks every contact under the jurisdictions that use it (it cannot know
 * the holidays), so the next year's calendar must ship before then.
 * @example const stop = watchHolidayCalendars(logger); ... stop();
 */
export function watchHolidayCalendars(logger: Logger, clock: () => Date = () => new Date()): () => void {
  const check = () => {
    for (const { calendar, coveredUntil, jurisdictions } of calendarsEndingWithin(clock().toISOString().slice(0, 10), WARN_DAYS)) {
      logger.warn(
        { calendar, coveredUntil, jurisdictions },
        `the ${calendar} holiday calendar ends on ${coveredUntil}: after that date every contact under ${jurisdictions.join(", ")} is blocked until the next year's calendar is added (domain/compliance/holidays)`,
      );
    }
  };
  check();
  const timer = setInterval(check, DAY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
