import { DatabaseError } from "pg";

const DEADLOCK_RETRIES = 3;

/**
 * Runs `statement` again when PostgreSQL aborted it as a deadlock victim (SQLSTATE 40P01).
 * Only for work that is one transaction, a statement or a whole BEGIN…COMMIT: the victim's
 * work was rolled back whole.
 */
export async function retryOnDeadlock<T>(statement: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await statement();
    } catch (error) {
      if (!isDeadlock(error) || attempt > DEADLOCK_RETRIES) throw error;
    }
  }
}

function isDeadlock(error: unknown): boolean {
  // node-postgres carries the SQLSTATE as `code`; Prisma as `meta.code` or in its message.
  const code = error instanceof DatabaseError ? error.code : ((error as { meta?: { code?: string } }).meta?.code ?? /Code: `(\w+)`/.exec(String(error))?.[1]);
  return code === "40P01";
}
