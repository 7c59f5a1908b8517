#!/usr/bin/env node
// `tagih` (package.json "bin"): runs the TypeScript command line through tsx from wherever it is called.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./tagih.ts");
process.exit(await main(process.argv.slice(2)));
