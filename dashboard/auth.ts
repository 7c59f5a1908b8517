import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";

/** The cookie holding the API key a manager signed in with. */
const KEY_COOKIE = "tagih_key";

/** Who is looking at the dashboard. */
export interface DashboardPrincipal {
  apiKey: string;
}

/**
 * The principal of a dashboard request, from the key cookie; undefined when signed out.
 * Any non-empty key is accepted here: the key is checked as the API checks bearer keys.
 * @example if (!dashboardPrincipal(c)) return c.redirect("/dashboard/login", 303);
 */
export function dashboardPrincipal(c: Context): DashboardPrincipal | undefined {
  const apiKey = getCookie(c, KEY_COOKIE);
  return apiKey ? { apiKey } : undefined;
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
