/** `npm run docs`: regenerates the configuration tables of docs/configuration.md from config/keyDocs.ts. */
import * as fs from "node:fs";
import * as path from "node:path";
import { withConfigTables } from "../config/keyDocs";

const file = path.join(__dirname, "..", "docs", "configuration.md");
fs.writeFileSync(file, withConfigTables(fs.readFileSync(file, "utf8")));
