// The body of an import validation thread (see import-validation.ts): rows in, outcomes out.
import { accountFromRow, rowExternalId, type ImportRow } from "../domain/account-input.ts";
import { inputKeys, namedColumns, upsertRow } from "./accounts.ts";
import type { RowOutcome } from "./import-validation.ts";

// A CSV's rows all have its header's columns: their named columns are worked out once.
let lastKeys = "";
let lastNamed = "";

export default function validateRows(rows: ImportRow[]): RowOutcome[] {
  return rows.map((values) => {
    const result = accountFromRow(values);
    if (result.problems) return { externalId: rowExternalId(values), problems: result.problems };
    const keys = inputKeys(values).join();
    if (keys !== lastKeys) [lastKeys, lastNamed] = [keys, namedColumns(values)];
    return { externalId: result.account.externalId, json: upsertRow(result.account), named: lastNamed };
  });
}
