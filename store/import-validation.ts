// Validates import rows on worker threads. Checking a row (phone numbers against the
// numbering plan's patterns above all) costs about 30 µs of CPU; on the event loop that
// bounded an import to one core and kept every other request waiting behind it. The threads
// answer each row with its upsert JSON, so the event loop only parses CSV and writes batches.
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Piscina } from "piscina";
import type { RowProblem, ImportRow } from "../domain/account-input.ts";
import { codePath, loaderFlags } from "../runtime/config.ts";

/**
 * A valid row as the upsert takes it (`upsertRow`, `namedColumns`), or what is wrong with it
 * and the external id it names if that is valid (`rowExternalId`).
 */
export type RowOutcome = { externalId: string; json: string; named: string; problems?: undefined } | { externalId?: string; problems: RowProblem[] };

export interface RowValidators {
  validate(rows: ImportRow[]): Promise<RowOutcome[]>;
  /** How many row chunks may be in flight at once: enough to keep every thread busy while the event loop writes a batch. */
  readonly concurrency: number;
  close(): Promise<void>;
}

/**
 * A pool of `threads` validation threads (default: one fewer than the cores, at least one),
 * started on the first import and stopped after a minute without work, so an idle API holds
 * no thread's memory.
 */
export function createRowValidators(threads = Math.max(1, availableParallelism() - 1)): RowValidators {
  const pool = new Piscina<ImportRow[], RowOutcome[]>({
    // The thread loads the code as the process does: the sources (also under a test runner) or dist/.
    filename: pathToFileURL(codePath("store/import-validation-worker.ts")).href,
    execArgv: loaderFlags,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: 60_000,
    // A thread holds a few chunks of rows at a time; without limits its heap grew like a main
    // thread's. Nearly all it allocates dies with its chunk, so the young generation is sized
    // for that: at 8 MB it was collected every few milliseconds and survivors filled the old
    // space, collected in full five times a second (a fifth of the import's CPU).
    resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 32 },
  });
  return {
    validate: (rows) => pool.run(rows),
    concurrency: threads * 4,
    close: () => pool.close(),
  };
}
