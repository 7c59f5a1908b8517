import type { Database } from "../runtime/database.ts";

/** Replays are kept this long; an older row counts as absent. */
export const IDEMPOTENCY_TTL_HOURS = 24;
/**
 * A claim whose request never completed nor released (the process died) is given up after
 * this long, so the key does not stay locked for a day. Longer than any request takes,
 * including a large streamed import.
 */
const IN_FLIGHT_LEASE_MINUTES = 30;

export interface IdempotencyScope {
  key: string;
  /** "<principal id>:<METHOD> <route pattern>": one client's key means one thing per route. */
  scope: string;
}

export type IdempotencyClaim = { state: "new" } | { state: "in-progress" } | { state: "done"; fingerprint: string; status: number; body: string };

/**
 * Claims a key before doing the work: "new" (go ahead, then complete or release), "in-progress"
 * (a concurrent request holds it) or "done" (replay the stored response if the body matches).
 * @example const claim = await claimIdempotencyKey(db, { key: "k-1", scope: `${keyId}:POST /v1/campaigns` });
 */
export async function claimIdempotencyKey(db: Database, { key, scope }: IdempotencyScope): Promise<IdempotencyClaim> {
  // A released claim may vanish between the insert and the read: then claim again.
  for (;;) {
    const claimed = await db.$queryRaw<unknown[]>`
      INSERT INTO idempotency_keys (scope, key, created_at) VALUES (${scope}, ${key}, now())
      ON CONFLICT (scope, key) DO UPDATE SET created_at = now(), fingerprint = NULL, status = NULL, body = NULL
       WHERE idempotency_keys.created_at < now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})
          OR (idempotency_keys.status IS NULL AND idempotency_keys.created_at < now() - make_interval(mins => ${IN_FLIGHT_LEASE_MINUTES}))
      RETURNING 1`;
    if (claimed.length > 0) return { state: "new" };
    const row = await db.idempotencyKey.findUnique({ where: { scope_key: { scope, key } } });
    if (!row) continue;
    if (row.status === null || row.fingerprint === null || row.body === null) return { state: "in-progress" };
    return { state: "done", fingerprint: row.fingerprint, status: row.status, body: row.body };
  }
}

/**
 * Stores the response of a claimed key, to be replayed to retries.
 * @example await completeIdempotencyKey(db, { key, scope, fingerprint, status: 201, body: text });
 */
export async function completeIdempotencyKey(db: Database, done: IdempotencyScope & { fingerprint: string; status: number; body: string }): Promise<void> {
  await db.idempotencyKey.updateMany({
    where: { scope: done.scope, key: done.key, status: null },
    data: { fingerprint: done.fingerprint, status: done.status, body: done.body },
  });
}

/**
 * Gives a claimed key up after a failure, so the client's retry runs the request again.
 * @example await releaseIdempotencyKey(db, { key, scope });
 */
export async function releaseIdempotencyKey(db: Database, { key, scope }: IdempotencyScope): Promise<void> {
  await db.idempotencyKey.deleteMany({ where: { scope, key, status: null } });
}

/** Deletes rows past their 24 hours; they already count as absent, this only frees space. */
export async function pruneIdempotencyKeys(db: Database): Promise<number> {
  return db.$executeRaw`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`;
}
