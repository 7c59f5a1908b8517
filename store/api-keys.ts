import { createHash, randomBytes } from "node:crypto";
import type { Database } from "../runtime/database.ts";
import { recordAudit } from "./audit.ts";

export const ROLES = ["admin", "ops", "manager", "agency"] as const;
export type Role = (typeof ROLES)[number];

// The prefix tells at a glance (in a leaked log, a secret scanner) what a key can do.
const PREFIX: Record<Role, string> = { admin: "adm", ops: "ops", manager: "mgr", agency: "agy" };

/**
 * A new random API key for a role: `tagih_<role prefix>_<43 base64url characters>` (256 bits).
 * @example generateApiKey("ops") // "tagih_ops_Vq3…"
 */
export function generateApiKey(role: Role): string {
  return `tagih_${PREFIX[role]}_${randomBytes(32).toString("base64url")}`;
}

/** SHA-256 (hex) of an API key: what is stored and looked up; the key itself is never kept. */
export function apiKeyHash(apiKey: string): string {
  return createHash("sha256").update(apiKey).digest("hex");
}

/** Who a request comes from: an API key that is not revoked. */
export interface Principal {
  keyId: string;
  role: Role;
  /** Set for the `agency` role: the agency whose placements the key may read. */
  agencyId: string | null;
}

/**
 * The principal of a presented key, or undefined when it is unknown or revoked.
 * @example await findPrincipal(db, "tagih_adm_…") // { keyId, role: "admin", agencyId: null }
 */
export async function findPrincipal(db: Database, apiKey: string): Promise<Principal | undefined> {
  const row = await db.apiKey.findUnique({ where: { keyHash: apiKeyHash(apiKey) }, select: { id: true, role: true, agencyId: true, revokedAt: true } });
  if (!row || row.revokedAt || !isRole(row.role)) return undefined;
  // An agency key whose agency is gone would otherwise see every agency's placements.
  if (row.role === "agency" && !row.agencyId) return undefined;
  return { keyId: row.id, role: row.role, agencyId: row.agencyId };
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Makes sure an admin can get in when the API starts. With `configuredKey`
 * (TAGIH_ADMIN_API_KEY) that key is stored (by hash) as an admin key, unless it was revoked:
 * a revoked key stays revoked across restarts (`revoked: true` says so). Without it, and with
 * no admin key yet, one is generated and returned to be shown once. Concurrent start-ups are
 * serialised by an advisory lock, so only one key is made.
 * @example const { generated } = await ensureAdminKey(db, config.adminApiKey);
 */
export async function ensureAdminKey(db: Database, configuredKey: string | undefined): Promise<{ generated?: string; revoked?: boolean }> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('tagih:first-admin-key'))`;
    const create = async (name: string, keyHash: string) => {
      const created = await tx.apiKey.create({ data: { name, role: "admin", keyHash } });
      await recordAudit(tx, { actor: "system", action: "api-key.create", target: { type: "api-key", id: created.id }, detail: { name, role: "admin" } });
    };
    if (configuredKey) {
      const keyHash = apiKeyHash(configuredKey);
      const existing = await tx.apiKey.findUnique({ where: { keyHash }, select: { revokedAt: true } });
      if (!existing) await create("TAGIH_ADMIN_API_KEY", keyHash);
      return existing?.revokedAt ? { revoked: true } : {};
    }
    if (await tx.apiKey.count({ where: { role: "admin", revokedAt: null } })) return {};
    const generated = generateApiKey("admin");
    await create("first admin key", apiKeyHash(generated));
    return { generated };
  });
}
