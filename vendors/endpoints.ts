// Where Tagih may POST on its own initiative: agencies' endpoints and the systems a strategy's
// `notify` step tells. Ops type those URLs, so without a check they could make the worker
// call anything its network reaches (a cloud metadata service, an admin port on loopback).
// Address ranges are classified by ipaddr.js rather than by hand-written masks.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * "refuse": https only, to hosts on public addresses; "allow": http and private networks too
 * (agencies and internal systems on the creditor's own network, local trials).
 */
export type PrivateEndpoints = "refuse" | "allow";

// Reachable under "allow"; every other non-public range (link-local and its metadata
// services, multicast, reserved, unspecified) is refused whatever the setting.
const PRIVATE_RANGES = new Set(["private", "loopback", "uniqueLocal", "carrierGradeNat"]);

/** Why Tagih must not send to `address` under `setting`, or undefined when it may. */
function addressProblem(address: string, setting: PrivateEndpoints): string | undefined {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  if (range === "unicast") return undefined;
  if (setting === "allow" && PRIVATE_RANGES.has(range)) return undefined;
  const shown = parsed.toString();
  return PRIVATE_RANGES.has(range)
    ? `is a private address (${shown}); set TAGIH_PRIVATE_ENDPOINTS=allow to reach your own network`
    : `is not a routable public address (${shown}, ${range})`;
}

/**
 * What is wrong with `url` as an endpoint Tagih POSTs to, judged from the URL alone (the
 * protocol, a literal address or localhost): a registration is refused with it.
 * @example endpointProblem("http://10.0.0.5/hook", "refuse") // "must be an https URL"
 */
export function endpointProblem(url: string, setting: PrivateEndpoints): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an absolute URL";
  }
  if (parsed.protocol !== "https:" && !(setting === "allow" && parsed.protocol === "http:")) {
    return setting === "allow" ? "must be an http or https URL" : "must be an https URL (set TAGIH_PRIVATE_ENDPOINTS=allow for http)";
  }
  const host = hostOf(parsed);
  if (isIP(host)) {
    const problem = addressProblem(host, setting);
    return problem && `host ${problem}`;
  }
  if (setting === "refuse" && (host === "localhost" || host.endsWith(".localhost")))
    return `host is this machine (${host}); set TAGIH_PRIVATE_ENDPOINTS=allow to reach it`;
  return undefined;
}

/**
 * Refuses, before a POST, an endpoint that `endpointProblem` refuses or whose host resolves
 * to an address the setting does not allow: a public name can point at a private address,
 * and DNS can change after the URL was registered. `context` names the account and step.
 */
export async function checkEndpoint(url: string, setting: PrivateEndpoints, context: string, resolve: Resolver = resolveAll): Promise<void> {
  const problem = endpointProblem(url, setting);
  if (problem) throw new EndpointRefusedError(`endpoint ${url} refused (${context}): ${problem}`);
  const host = hostOf(new URL(url));
  if (isIP(host)) return;
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    // Not refused: a name that does not resolve now may later; the caller's retries decide.
    throw new Error(`endpoint ${url} could not be resolved (${context}): ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  for (const address of addresses) {
    const refused = addressProblem(address, setting);
    if (refused) throw new EndpointRefusedError(`endpoint ${url} refused (${context}): ${host} ${refused}`);
  }
}

/** A host's addresses, as the connection about to be made would find them. */
export type Resolver = (host: string) => Promise<string[]>;

const resolveAll: Resolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

/** The URL's host, an IPv6 address without its brackets. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

export class EndpointRefusedError extends Error {
  override name = "EndpointRefusedError";
}
