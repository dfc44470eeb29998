import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { ROOT } from "./helpers/program";

/** Every function in a folder with its length in lines (declarations, methods, constructors, arrows). */
function functionLengths(dir: string): { where: string; lines: number }[] {
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts")).flatMap((file) => {
    const source = ts.createSourceFile(file, fs.readFileSync(path.join(dir, file), "utf8"), ts.ScriptTarget.Latest, true);
    const found: { where: string; lines: number }[] = [];
    const visit = (n: ts.Node): void => {
      if (ts.isFunctionLike(n) && "body" in n && n.body) {
        const first = source.getLineAndCharacterOfPosition(n.getStart()).line;
        const last = source.getLineAndCharacterOfPosition(n.end).line;
        found.push({ where: `${file}:${first + 1}`, lines: last - first + 1 });
      }
      ts.forEachChild(n, visit);
    };
    visit(source);
    return found;
  });
}

test("no function in a shipped folder is 60 lines or longer (builders are pure functions; constructors wire them)", () => {
  const all = ["components", "config", "resources", "stack", "engines", "talosapi", "sdk", "cli"].flatMap((dir) => functionLengths(path.join(ROOT, dir)).map((f) => ({ ...f, where: `${dir}/${f.where}` })));
  expect(all.length).toBeGreaterThan(50);
  expect(all.filter((f) => f.lines >= 60)).toEqual([]);
});
