import { getCountries, getExampleNumber } from "libphonenumber-js/max";
import mobileExamples from "libphonenumber-js/mobile/examples";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";
import { canonicalZone, zonesOfCountry } from "../domain/compliance/debtor-zones.ts";

// A zone of a real country for each whole UTC offset (without summer time where the offset
// has one), so an account can carry a phone of the country its zone is in: the gate also
// counts the phone's country's zones when they disagree. Offsets -12 and -11 have no
// country with numbers enough: +12 and +13 show the same clock a day later.
const ZONES: Record<number, string> = {
  [-10]: "Pacific/Honolulu",
  [-9]: "Pacific/Gambier",
  [-8]: "America/Los_Angeles",
  [-7]: "America/Phoenix",
  [-6]: "America/Guatemala",
  [-5]: "America/Bogota",
  [-4]: "America/La_Paz",
  [-3]: "America/Sao_Paulo",
  [-2]: "America/Noronha",
  [-1]: "Atlantic/Cape_Verde",
  0: "Africa/Abidjan",
  1: "Africa/Lagos",
  2: "Africa/Johannesburg",
  3: "Africa/Nairobi",
  4: "Asia/Dubai",
  5: "Asia/Karachi",
  6: "Asia/Dhaka",
  7: "Asia/Jakarta",
  8: "Asia/Singapore",
  9: "Asia/Tokyo",
  10: "Australia/Brisbane",
  11: "Pacific/Guadalcanal",
  12: "Pacific/Fiji",
  13: "Pacific/Tongatapu",
};

/**
 * A zone whose local time is now about `hour`:00 (an hour later in Los Angeles' summer), so
 * that tests running at any time of day find the compliance gate open (or closed) as they need.
 */
export function zoneAtLocalHour(hour: number, now = Date.now()): string {
  const offset = ((((hour - new Date(now).getUTCHours()) % 24) + 36) % 24) - 12;
  return ZONES[offset < -10 ? offset + 24 : offset]!;
}

/**
 * A mobile number of the country `zone` is in that no other account of this test run has,
 * in E.164: the country's example mobile with its last five digits replaced. The gate counts
 * the contacts of accounts sharing a phone together, so tests must not share one by chance.
 */
export function uniqueMobile(zone: string): string {
  const country = getCountries().find((c) => zonesOfCountry(c).includes(canonicalZone(zone)));
  const example = country && getExampleNumber(country, mobileExamples)?.number;
  if (!example) throw new Error(`no country with mobile numbers has the zone ${zone}`);
  if (issued >= BLOCK) throw new Error(`a test file may take ${BLOCK} phone numbers at most`);
  return `${example.slice(0, -5)}${String(fileBlock() * BLOCK + issued++).padStart(5, "0")}`;
}

const BLOCK = 1000;
let issued = 0;
let block: number | undefined;

// Each test file takes a block of numbers by creating its file in a folder the global setup
// empties: creation is exclusive, so no two files of a run take one block.
function fileBlock(): number {
  for (let b = 0; block === undefined; b++) {
    try {
      closeSync(openSync(join(inject("phoneBlocksDir"), String(b)), "wx"));
      block = b;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  if (block >= 100_000 / BLOCK) throw new Error("the run's test files took every block of phone numbers");
  return block;
}
