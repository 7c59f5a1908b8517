// `--profile`: a V8 CPU profile of the API's process (this one) while the callbacks are
// fired, saved for Chrome DevTools and summarised as where the JavaScript time went.
import { writeFile } from "node:fs/promises";
import type { Profiler } from "node:inspector";
import { Session } from "node:inspector/promises";
import { relative } from "node:path";
import { repoRoot } from "../runtime/config.ts";

export interface ProfileSummary {
  file: string;
  /** Sampled seconds, and the share of them the thread was busy (not idle). */
  seconds: number;
  busyShare: number;
  /** Self time by where the code lives (a package, a product folder, GC, native), share of busy time. */
  byOwner: { owner: string; share: number }[];
  /** The functions with the most self time, share of busy time. */
  topFunctions: { name: string; share: number }[];
}

export interface RunningProfile {
  stop(): Promise<ProfileSummary>;
}

export async function startProfile(file: string): Promise<RunningProfile> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 });
  await session.post("Profiler.start");
  return {
    async stop() {
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      await writeFile(file, JSON.stringify(profile));
      return summarise(profile, file);
    },
  };
}

/** Where a V8 CPU profile's JavaScript time went (also for profiles a child process wrote with --cpu-prof). */
export function summarise(profile: Profiler.Profile, file: string): ProfileSummary {
  const selfTime = new Map<number, number>();
  const deltas = profile.timeDeltas ?? [];
  (profile.samples ?? []).forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (deltas[i + 1] ?? 0)));
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const micros = selfTime.get(node.id) ?? 0;
    if (!micros) continue;
    total += micros;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") {
      idle += micros;
      continue;
    }
    const owner = ownerOf(functionName, url);
    owners.set(owner, (owners.get(owner) ?? 0) + micros);
    const name = `${functionName || "(anonymous)"} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ""}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + micros);
  }
  const busy = total - idle;
  const ranked = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, micros]) => ({ key, share: busy ? micros / busy : 0 }));
  return {
    file,
    seconds: total / 1e6,
    busyShare: total ? busy / total : 0,
    byOwner: ranked(owners, 12).map(({ key, share }) => ({ owner: key, share })),
    topFunctions: ranked(functions, 15).map(({ key, share }) => ({ name: key, share })),
  };
}

/** "prisma client", "pg", "api/", "(garbage collector)"… */
function ownerOf(functionName: string, url: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const path = url.replace(/^file:\/\//, "");
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1]!;
  if (path.startsWith("node:")) return "node core";
  if (path.includes("/generated/prisma/")) return "generated/prisma";
  const rel = relative(repoRoot, path);
  return rel.startsWith("..") ? path : `${rel.split("/")[0]}/`;
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  const pkg = path.lastIndexOf("node_modules/");
  if (pkg >= 0) return path.slice(pkg + "node_modules/".length);
  return path.startsWith("/") ? relative(repoRoot, path) : path;
}
