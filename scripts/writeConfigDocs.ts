/** `npm run docs`: regenerates the README's configuration tables from config/keyDocs.ts. */
import * as fs from "node:fs";
import * as path from "node:path";
import { withConfigTables } from "../config/keyDocs";

const file = path.join(__dirname, "..", "README.md");
fs.writeFileSync(file, withConfigTables(fs.readFileSync(file, "utf8")));
