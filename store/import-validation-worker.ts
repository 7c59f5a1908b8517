// The body of an import validation thread (see import-validation.ts): rows in, outcomes out.
import { accountFromRow, type ImportRow } from "../domain/account-input.ts";
import { namedColumns, upsertRow } from "./accounts.ts";
import type { RowOutcome } from "./import-validation.ts";

export default function validateRows(rows: ImportRow[]): RowOutcome[] {
  return rows.map((values) => {
    const result = accountFromRow(values);
    return result.problems
      ? { problems: result.problems }
      : { externalId: result.account.externalId, json: upsertRow(result.account), named: namedColumns(Object.keys(values)) };
  });
}
