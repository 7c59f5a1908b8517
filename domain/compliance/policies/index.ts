import { UnknownJurisdictionError } from "../errors.ts";
import type { Policy, StatePolicy } from "../types.ts";
import { GB } from "./GB.ts";
import { ID } from "./ID.ts";
import { IN } from "./IN.ts";
import { KE } from "./KE.ts";
import { SG } from "./SG.ts";
import { US } from "./US.ts";
import { US_MA } from "./US-MA.ts";
import { US_WA } from "./US-WA.ts";

const COUNTRIES = new Map<string, Policy>([US, IN, ID, KE, SG, GB].map((p) => [p.jurisdiction, p]));
const STATES = new Map<string, StatePolicy>([US_MA, US_WA].map((p) => [p.jurisdiction, p]));

/** Every jurisdiction code the gate knows. */
export const JURISDICTIONS: readonly string[] = [...COUNTRIES.keys(), ...STATES.keys()];

/**
 * The effective policy for a jurisdiction code; a state's rules are added to its
 * country's, so both must pass.
 *
 * @example policyFor("US-MA").frequencyCaps // the US caps plus 2 voice/SMS per 7 days
 * @throws UnknownJurisdictionError for a code without a policy.
 */
export function policyFor(jurisdiction: string): Policy {
  const country = COUNTRIES.get(jurisdiction);
  if (country) return country;
  const state = STATES.get(jurisdiction);
  const stateCountry = state && COUNTRIES.get(state.country);
  if (state && stateCountry) return withStateRules(stateCountry, state);
  throw new UnknownJurisdictionError(jurisdiction);
}

function withStateRules(country: Policy, state: StatePolicy): Policy {
  return {
    ...country,
    jurisdiction: state.jurisdiction,
    version: `${state.version}+${country.jurisdiction}@${country.version}`,
    timeZones: state.timeZones,
    frequencyCaps: [...country.frequencyCaps, ...state.frequencyCaps],
    sources: [...country.sources, ...state.sources],
  };
}
