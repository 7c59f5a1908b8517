import type { TransactionClient } from "../generated/prisma/internal/prismaNamespace.ts";
import type { AccountInput } from "../domain/account-input.ts";
import type { Database } from "../runtime/database.ts";

export interface UpsertedAccount {
  id: string;
  externalId: string;
  created: boolean;
}

/**
 * The upsert of a batch of accounts by external id, one statement whatever the batch size:
 * columns travel as arrays in parameters $1–$15 (`upsertParameters`), amounts as decimal
 * strings (the driver adapter cannot bind bigints beyond 2^53). It returns each row's id,
 * external id and whether it was created (`xmax = 0` tells an insert from an update).
 * External ids must be distinct within a batch: PostgreSQL cannot update one row twice in a
 * statement.
 */
export const UPSERT_ACCOUNTS_SQL = `INSERT INTO accounts (id, external_id, name, phone, email, whatsapp, time_zone, locale, jurisdiction, product, currency, balance_minor, days_past_due, due_date,
                           consent_whatsapp, consent_autodialed, updated_at)
     SELECT gen_random_uuid(), i.external_id, i.name, i.phone, i.email, i.whatsapp, i.time_zone, i.locale, i.jurisdiction, i.product, i.currency,
            i.balance_minor::bigint, i.days_past_due, i.due_date::date, i.consent_whatsapp, i.consent_autodialed, now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                   $11::text[], $12::int[], $13::text[], $14::boolean[], $15::boolean[])
            AS i(external_id, name, phone, email, whatsapp, time_zone, locale, jurisdiction, product, currency, balance_minor, days_past_due, due_date,
                 consent_whatsapp, consent_autodialed)
     ON CONFLICT (external_id) DO UPDATE SET
       name = EXCLUDED.name, phone = EXCLUDED.phone, email = EXCLUDED.email, whatsapp = EXCLUDED.whatsapp,
       time_zone = EXCLUDED.time_zone, locale = EXCLUDED.locale, jurisdiction = EXCLUDED.jurisdiction,
       product = EXCLUDED.product, currency = EXCLUDED.currency, balance_minor = EXCLUDED.balance_minor,
       days_past_due = EXCLUDED.days_past_due, due_date = EXCLUDED.due_date,
       consent_whatsapp = EXCLUDED.consent_whatsapp, consent_autodialed = EXCLUDED.consent_autodialed, updated_at = now()
     RETURNING id, external_id, (xmax = 0) AS created`;

/** The 15 parameters of UPSERT_ACCOUNTS_SQL for `accounts`. */
export function upsertParameters(accounts: readonly AccountInput[]): unknown[] {
  const column = <T>(pick: (a: AccountInput) => T) => accounts.map(pick);
  return [
    column((a) => a.externalId),
    column((a) => a.name),
    column((a) => a.phone ?? null),
    column((a) => a.email ?? null),
    column((a) => a.whatsapp ?? null),
    column((a) => a.timeZone ?? null),
    column((a) => a.locale),
    column((a) => a.jurisdiction),
    column((a) => a.product),
    column((a) => a.currency),
    column((a) => a.balanceMinor.toString()),
    column((a) => a.daysPastDue),
    column((a) => a.dueDate ?? null),
    column((a) => a.consent.whatsapp),
    column((a) => a.consent.autodialedCalls),
  ];
}

/** Creates or updates accounts by external id in one statement (all or nothing), answering in input order. */
export async function upsertAccounts(db: Database | TransactionClient, accounts: readonly AccountInput[]): Promise<UpsertedAccount[]> {
  if (accounts.length === 0) return [];
  const rows = await db.$queryRawUnsafe<{ id: string; external_id: string; created: boolean }[]>(UPSERT_ACCOUNTS_SQL, ...upsertParameters(accounts));
  const byExternalId = new Map(rows.map((r) => [r.external_id, r]));
  return accounts.map((a) => {
    const row = byExternalId.get(a.externalId)!;
    return { id: row.id, externalId: a.externalId, created: row.created };
  });
}
