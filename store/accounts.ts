import type { AccountInput } from "../domain/account-input.ts";
import type { Database } from "../runtime/database.ts";
import { recordAudit, type AuditEvent } from "./audit.ts";

export interface UpsertedAccount {
  id: string;
  externalId: string;
  created: boolean;
}

/**
 * Optional fields by what an input names them (a file's column, a JSON key), as columns.
 * An update sets the ones its input names (an empty cell or null clears it) and keeps the
 * others: a file that refreshes balances must not wipe the phone numbers and consent it
 * does not carry.
 */
const OPTIONAL_COLUMNS: Record<string, readonly string[]> = {
  phone: ["phone"],
  email: ["email"],
  whatsapp: ["whatsapp"],
  timeZone: ["time_zone"],
  locale: ["locale"],
  dueDate: ["due_date"],
  consent: ["consent_whatsapp", "consent_autodialed"],
  consentWhatsapp: ["consent_whatsapp"],
  consentAutodialedCalls: ["consent_autodialed"],
};

/**
 * The optional columns an account's input (a JSON object, a file's row) names, comma-separated
 * in a fixed order (inputs naming the same ones share an upsert statement). A `consent` object
 * names only the consents it holds: `{"whatsapp": false}` keeps the stored autodialled-call
 * consent.
 * @example namedColumns({ externalId: "A-1", phone: "0812…", consent: { whatsapp: true } }) // "phone,consent_whatsapp"
 */
export function namedColumns(input: Record<string, unknown>): string {
  const named = new Set<string>();
  for (const key of inputKeys(input)) for (const column of OPTIONAL_COLUMNS[key] ?? []) named.add(column);
  return ALL_OPTIONAL.filter((c) => named.has(c)).join(",");
}

/**
 * The keys `namedColumns` reads: the input's own, with a `consent` object spelled out as the
 * consents it holds (a null or other value names them all).
 * @example inputKeys({ consent: { whatsapp: true } }) // ["consentWhatsapp"]
 */
export function inputKeys(input: Record<string, unknown>): string[] {
  const { consent } = input;
  const keys = Object.keys(input);
  if (typeof consent !== "object" || consent === null || Array.isArray(consent)) return keys;
  const held = Object.keys(consent);
  const spelled = [...(held.includes("whatsapp") ? ["consentWhatsapp"] : []), ...(held.includes("autodialedCalls") ? ["consentAutodialedCalls"] : [])];
  return keys.flatMap((k) => (k === "consent" ? spelled : [k]));
}

const ALL_OPTIONAL = [...new Set(Object.values(OPTIONAL_COLUMNS).flat())];

// The fields of an account in the upsert's JSON (`upsertRow`); a row of an import file also
// carries its `import_row` (`importRow`).
const ACCOUNT_FIELDS = `external_id text, name text, phone text, email text, whatsapp text, time_zone text, locale text, jurisdiction text, product text,
                 currency text, balance_minor bigint, days_past_due int, due_date date, consent_whatsapp boolean, consent_autodialed boolean,
                 import_row int`;

/**
 * The upsert of a batch of accounts by external id, one statement whatever the batch size:
 * the batch travels as one JSON array in parameter $1 (`upsertParameter`), amounts as
 * decimal strings (JSON numbers cannot hold every bigint). One text parameter costs the
 * client a single JSON.stringify, where fifteen arrays cost the driver adapter and node-postgres
 * an escaping pass per element. Parameter $2 lists the optional columns the batch's inputs
 * name (`namedColumns`); an update keeps the others as stored. It returns each row's id,
 * external id and whether it was created (`xmax = 0` tells an insert from an update).
 * External ids must be distinct within a batch: PostgreSQL cannot update one row twice in a
 * statement.
 */
export const UPSERT_ACCOUNTS_SQL = upsertAccountsSql({ rows: accountRowsSql("$1"), named: "$2", importId: "NULL" });

/**
 * The accounts of a JSON array parameter (`upsertParameter`) as a FROM item named `i`.
 * @example accountRowsSql("$1") // "json_to_recordset($1::json) AS i(external_id text, …)"
 */
export function accountRowsSql(parameter: string): string {
  return `json_to_recordset(${parameter}::json) AS i(${ACCOUNT_FIELDS})`;
}

/** One account held as JSON in `column` (an `upsertRow`), as a FROM item named `i`. */
export function accountRecordSql(column: string): string {
  return `json_to_record(${column}) AS i(${ACCOUNT_FIELDS})`;
}

/**
 * Whether the stored account `alias` has money or journeys in its currency: payments,
 * promises or enrolments. Such an account keeps its currency: changing it would mix two
 * currencies in its balance, its payments and the reports.
 */
export function currencyInUseSql(alias: string): string {
  return `(EXISTS (SELECT FROM payments x WHERE x.account_id = ${alias}.id) OR EXISTS (SELECT FROM promises x WHERE x.account_id = ${alias}.id)
    OR EXISTS (SELECT FROM enrolments x WHERE x.account_id = ${alias}.id))`;
}

const CURRENCY_KEPT =
  " for this account, which has payments, promises or journeys in it: an account keeps its currency (a debt in another currency is another account, with an external id of its own)";

/** Why an account's currency cannot change. @example currencyKeptReason("USD") // "is USD for this account, which has payments, …" */
export const currencyKeptReason = (stored: string) => `is ${stored}${CURRENCY_KEPT}`;

/** currencyKeptReason in SQL, given the SQL of the stored currency. */
export const currencyKeptReasonSql = (stored: string) => `'is ' || ${stored} || '${CURRENCY_KEPT}'`;

/**
 * The upsert of the accounts `rows` gives (what follows FROM: items whose rows are named `i`,
 * as `accountRowsSql`, and any WHERE), `named` the text[] parameter of the optional columns
 * they name, `importId` the import writing them (SQL; NULL through the API). An account this
 * import already wrote is left as it is and not returned: its external id came earlier in the file.
 * Nor is one whose currency the row would change while it is in use (`currencyInUseSql`).
 */
export function upsertAccountsSql({ rows, named, importId }: { rows: string; named: string; importId: string }): string {
  return `INSERT INTO accounts (id, external_id, name, phone, email, whatsapp, time_zone, locale, jurisdiction, product, currency, balance_minor, days_past_due,
                           due_date, consent_whatsapp, consent_autodialed, import_id, import_row, updated_at)
     SELECT gen_random_uuid(), i.external_id, i.name, i.phone, i.email, i.whatsapp, i.time_zone, i.locale, i.jurisdiction, i.product, i.currency,
            i.balance_minor, i.days_past_due, i.due_date, i.consent_whatsapp, i.consent_autodialed, ${importId}, i.import_row, now()
       FROM ${rows}
      -- Rows lock in one order in every statement, so two imports of overlapping accounts wait for each other instead of deadlocking.
      ORDER BY i.external_id
     ON CONFLICT (external_id) DO UPDATE SET
       name = EXCLUDED.name, jurisdiction = EXCLUDED.jurisdiction, product = EXCLUDED.product, currency = EXCLUDED.currency,
       balance_minor = EXCLUDED.balance_minor, days_past_due = EXCLUDED.days_past_due,
       ${ALL_OPTIONAL.map((c) => `${c} = CASE WHEN '${c}' = ANY(${named}::text[]) THEN EXCLUDED.${c} ELSE accounts.${c} END`).join(",\n       ")},
       import_id = EXCLUDED.import_id, import_row = EXCLUDED.import_row, updated_at = now()
     WHERE (EXCLUDED.import_id IS NULL OR accounts.import_id IS DISTINCT FROM EXCLUDED.import_id)
       AND (accounts.currency = EXCLUDED.currency OR NOT ${currencyInUseSql("accounts")})
     RETURNING id, external_id, (xmax = 0) AS created`;
}

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

/**
 * The accounts among `accounts` whose stored account keeps its currency against the one
 * given (`currencyInUseSql`), by their index in `accounts`, with the stored currency.
 */
export async function currencyKeptAgainst(
  db: Database,
  accounts: readonly Pick<AccountInput, "externalId" | "currency">[],
): Promise<{ index: number; currency: string }[]> {
  if (accounts.length === 0) return [];
  const kept = await db.$queryRawUnsafe<{ external_id: string; currency: string }[]>(
    `SELECT a.external_id, a.currency FROM accounts a JOIN unnest($1::text[], $2::text[]) AS i(external_id, currency) USING (external_id)
      WHERE a.currency <> i.currency AND ${currencyInUseSql("a")}`,
    accounts.map((a) => a.externalId),
    accounts.map((a) => a.currency),
  );
  const stored = new Map(kept.map((k) => [k.external_id, k.currency]));
  return accounts.flatMap((a, index) => (stored.has(a.externalId) ? [{ index, currency: stored.get(a.externalId)! }] : []));
}

/**
 * Creates or updates accounts by external id (all or nothing), answering in input order.
 * `named` gives, for each account, the optional columns its input named (`namedColumns`);
 * accounts naming different ones go in separate statements of one transaction. `audit`, given
 * what was stored, is the audit entry recorded in that transaction.
 */
export async function upsertAccounts(
  db: Database,
  accounts: readonly AccountInput[],
  named: readonly string[],
  audit?: (stored: UpsertedAccount[]) => AuditEvent,
): Promise<UpsertedAccount[]> {
  if (accounts.length === 0) return [];
  const groups = new Map<string, string[]>();
  accounts.forEach((a, i) => {
    const rows = groups.get(named[i]!) ?? [];
    rows.push(upsertRow(a));
    groups.set(named[i]!, rows);
  });
  return db.$transaction(async (tx) => {
    const results: { id: string; external_id: string; created: boolean }[] = [];
    for (const [columns, rows] of groups) {
      results.push(...(await tx.$queryRawUnsafe<typeof results>(UPSERT_ACCOUNTS_SQL, upsertParameter(rows), columns ? columns.split(",") : [])));
    }
    const byExternalId = new Map(results.map((r) => [r.external_id, r]));
    const stored = accounts.map((a) => {
      const row = byExternalId.get(a.externalId);
      // Left out by the upsert: its account took payments, a promise or a journey since `currencyKeptAgainst` looked.
      if (!row) throw new Error(`account ${a.externalId} was not stored: it keeps its currency, which is not ${a.currency}`);
      return { id: row.id, externalId: a.externalId, created: row.created };
    });
    if (audit) await recordAudit(tx, audit(stored));
    return stored;
  });
}
