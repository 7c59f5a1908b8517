/** The compliance gate's public surface. */
export { evaluateContact, evaluateContactUnder, HORIZON_DAYS } from "./gate.ts";
export { InvalidGateInputError, UnknownJurisdictionError } from "./errors.ts";
export { JURISDICTIONS, policyFor } from "./policies/index.ts";
export { debtorZones } from "./debtor-zones.ts";
export { calendarsEndingWithin, lastCoveredDate } from "./calendar-coverage.ts";
export { holidayCalendar } from "./holidays/index.ts";
export { readInstant } from "./time.ts";
export { HOLDS } from "./types.ts";
export type * from "./types.ts";
