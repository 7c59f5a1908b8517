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
 * the batch travels as one JSON array in parameter $1 (`upsertParameter`), amounts as
 * decimal strings (JSON numbers cannot hold every bigint). One text parameter costs the
 * client a single JSON.stringify, where fifteen arrays cost the driver adapter and node-postgres
 * an escaping pass per element. It returns each row's id, external id and whether it was
 * created (`xmax = 0` tells an insert from an update). External ids must be distinct within a
 * batch: PostgreSQL cannot update one row twice in a statement.
 */
export const UPSERT_ACCOUNTS_SQL = `INSERT INTO accounts (id, external_id, name, phone, email, whatsapp, time_zone, locale, jurisdiction, product, currency, balance_minor, days_past_due, due_date,
                           consent_whatsapp, consent_autodialed, updated_at)
     SELECT gen_random_uuid(), i.external_id, i.name, i.phone, i.email, i.whatsapp, i.time_zone, i.locale, i.jurisdiction, i.product, i.currency,
            i.balance_minor, i.days_past_due, i.due_date, i.consent_whatsapp, i.consent_autodialed, now()
       FROM json_to_recordset($1::json)
            AS i(external_id text, name text, phone text, email text, whatsapp text, time_zone text, locale text, jurisdiction text, product text,
                 currency text, balance_minor bigint, days_past_due int, due_date date, consent_whatsapp boolean, consent_autodialed boolean)
     ON CONFLICT (external_id) DO UPDATE SET
       name = EXCLUDED.name, phone = EXCLUDED.phone, email = EXCLUDED.email, whatsapp = EXCLUDED.whatsapp,
       time_zone = EXCLUDED.time_zone, locale = EXCLUDED.locale, jurisdiction = EXCLUDED.jurisdiction,
       product = EXCLUDED.product, currency = EXCLUDED.currency, balance_minor = EXCLUDED.balance_minor,
       days_past_due = EXCLUDED.days_past_due, due_date = EXCLUDED.due_date,
       consent_whatsapp = EXCLUDED.consent_whatsapp, consent_autodialed = EXCLUDED.consent_autodialed, updated_at = now()
     RETURNING id, external_id, (xmax = 0) AS created`;

/** The JSON parameter of UPSERT_ACCOUNTS_SQL: accounts as `upsertRow` writes them. */
export function upsertParameter(rows: readonly string[]): string {
  return `[${rows.join(",")}]`;
}

/** One account of UPSERT_ACCOUNTS_SQL's JSON parameter; absent values are left out (NULL). */
export function upsertRow(a: AccountInput): string {
  return JSON.stringify({
    external_id: a.externalId,
    name: a.name,
    phone: a.phone,
    email: a.email,
    whatsapp: a.whatsapp,
    time_zone: a.timeZone,
    locale: a.locale,
    jurisdiction: a.jurisdiction,
    product: a.product,
    currency: a.currency,
    balance_minor: a.balanceMinor.toString(),
    days_past_due: a.daysPastDue,
    due_date: a.dueDate,
    consent_whatsapp: a.consent.whatsapp,
    consent_autodialed: a.consent.autodialedCalls,
  });
}

/** Creates or updates accounts by external id in one statement (all or nothing), answering in input order. */
export async function upsertAccounts(db: Database | TransactionClient, accounts: readonly AccountInput[]): Promise<UpsertedAccount[]> {
  if (accounts.length === 0) return [];
  const rows = await db.$queryRawUnsafe<{ id: string; external_id: string; created: boolean }[]>(UPSERT_ACCOUNTS_SQL, upsertParameter(accounts.map(upsertRow)));
  const byExternalId = new Map(rows.map((r) => [r.external_id, r]));
  return accounts.map((a) => {
    const row = byExternalId.get(a.externalId)!;
    return { id: row.id, externalId: a.externalId, created: row.created };
  });
}
