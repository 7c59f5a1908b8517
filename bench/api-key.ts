import { randomBytes } from "node:crypto";

/** The admin API key the benchmark's Tagih starts with (TAGIH_ADMIN_API_KEY) and its requests send. */
export const benchAdminKey = process.env.TAGIH_ADMIN_API_KEY ?? `tagih_adm_bench_${randomBytes(24).toString("base64url")}`;

/** Headers of a benchmark request to the API. */
export const authorization = { authorization: `Bearer ${benchAdminKey}` };
