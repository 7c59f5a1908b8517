import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { FileRow } from "../api/import-files.ts";
import { chunksOf } from "./account-import.ts";

/** Rows numbered from 2 (after the header); `pause` marks where the upload stalls for a while. */
async function* upload(parts: (number | "pause")[]): AsyncGenerator<FileRow> {
  let row = 1;
  for (const part of parts) {
    if (part === "pause") await delay(100);
    else for (let i = 0; i < part; i++) yield { row: ++row, values: {}, problems: [] };
  }
}

describe("import chunks", () => {
  it.each([
    ["fill to the size", [5], 2, [[2, 3], [4, 5], [6]]],
    [
      "end when the upload pauses",
      [3, "pause", 2],
      10,
      [
        [2, 3, 4],
        [5, 6],
      ],
    ],
    ["do both", [5, "pause", 1], 2, [[2, 3], [4, 5], [6], [7]]],
    ["are none for an empty file", [], 2, []],
  ] as const)("%s", async (_, parts, size, expected) => {
    const chunks: number[][] = [];
    for await (const chunk of chunksOf(upload([...parts]), size, 20)) chunks.push(chunk.map((r) => r.row));
    expect(chunks).toEqual(expected);
  });

  it("passes on the error of a failed upload after the rows read before it", async () => {
    async function* broken(): AsyncGenerator<FileRow> {
      yield { row: 2, values: {}, problems: [] };
      yield { row: 3, values: {}, problems: [] };
      throw new Error("client went away");
    }
    const chunks: number[][] = [];
    await expect(
      (async () => {
        for await (const chunk of chunksOf(broken(), 10, 1000)) chunks.push(chunk.map((r) => r.row));
      })(),
    ).rejects.toThrow("client went away");
    expect(chunks).toEqual([[2, 3]]);
  });
});
