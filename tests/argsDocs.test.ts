import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { TOP_LEVEL_KEYS, settingsSchema } from "../config/schema";
import { ROOT } from "./helpers/program";

/**
 * Each config key is described once, in config/keyDocs.ts (the reference tables are generated from
 * it) with its default in the schema. The component's Args carry TSDoc for editors; this keeps them
 * tested against the schema: every key has one, and a stated default is the schema's.
 */
function argsDocs(): Map<string, string> {
  const file = path.join(ROOT, "components", "talosProxmoxCluster.ts");
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const args = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === "TalosProxmoxClusterArgs")!;
  return new Map(
    args.members.filter(ts.isPropertySignature).map((m) => {
      const doc = ts.getJSDocCommentsAndTags(m).map((d) => (typeof d.comment === "string" ? d.comment : "")).join(" ");
      return [(m.name as ts.Identifier).text, doc.replace(/\s+/g, " ")] as const;
    }),
  );
}

/** A default as TSDoc states it, reduced to its characters: `[a]`, `a`, 4, false. */
const loose = (text: string) => text.replace(/[`[\]\s"]/g, "").toLowerCase();

test("every config key has Args TSDoc, and the default it states is the schema's", () => {
  const docs = argsDocs();
  const problems: string[] = [];
  for (const key of TOP_LEVEL_KEYS) {
    const doc = docs.get(key);
    if (!doc) {
      problems.push(`${key}: no TSDoc on TalosProxmoxClusterArgs`);
      continue;
    }
    const parsed = settingsSchema.shape[key as keyof typeof settingsSchema.shape].safeParse(undefined);
    const value = parsed.success ? (parsed.data as unknown) : undefined;
    if (value === undefined || (typeof value === "object" && !Array.isArray(value))) continue;
    const stated = /Default: (.+?)(?:\.\s|\.$| \(|;|$)/.exec(doc)?.[1];
    // An empty list reads "none".
    const expected = Array.isArray(value) ? (value.length === 0 ? "none" : value.join(",")) : String(value);
    if (stated === undefined || loose(stated) !== loose(expected)) problems.push(`${key}: TSDoc says "Default: ${stated}", the schema's default is ${JSON.stringify(value)}`);
  }
  expect(problems).toEqual([]);
});
