import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { accessRule, authenticate } from "../api/access.ts";
import type { Database } from "../runtime/database.ts";
import type { Principal } from "../store/api-keys.ts";

/** The cookie holding the API key a manager signed in with. */
const KEY_COOKIE = "tagih_key";

/**
 * The principal of a dashboard request, from the key cookie, when that key is valid and its
 * role may read the dashboard (the `/dashboard` rule of the API's access table); undefined
 * when signed out, revoked or not allowed. Browsers send cookies, not bearer headers, so the
 * dashboard checks its key here rather than in the API's access middleware.
 * @example if (!(await dashboardPrincipal(db, c))) return c.redirect("/dashboard/login", 303);
 */
export async function dashboardPrincipal(db: Database, c: Context, apiKey = getCookie(c, KEY_COOKIE)): Promise<Principal | undefined> {
  if (!apiKey) return undefined;
  const principal = await authenticate(db, `Bearer ${apiKey}`);
  return principal && accessRule("GET", "/dashboard")?.roles.includes(principal.role) ? principal : undefined;
}

/** Keeps the key in an HttpOnly, SameSite=Strict cookie (Secure over https) for the dashboard's paths. */
export function rememberKey(c: Context, apiKey: string): void {
  setCookie(c, KEY_COOKIE, apiKey, {
    path: "/dashboard",
    httpOnly: true,
    sameSite: "Strict",
    secure: new URL(c.req.url).protocol === "https:",
    maxAge: 12 * 3600,
  });
}

export function forgetKey(c: Context): void {
  deleteCookie(c, KEY_COOKIE, { path: "/dashboard" });
}
