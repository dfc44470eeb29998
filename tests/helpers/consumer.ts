import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "./program";

let packed: string[] | undefined;

/** The files `npm pack` puts in the package (what a git, folder or registry install gets); asked once per test file. */
export function packedFiles(): string[] {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  packed ??= (JSON.parse(execFileSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" })) as { files: { path: string }[] }[])[0].files.map(
    (f) => f.path,
  );
  return packed;
}

/**
 * A project directory outside this repository with the package installed the way npm installs it:
 * the packed files under `node_modules/talos-proxmox`, and its dependencies (plus the TypeScript
 * tooling a consumer has) beside it. Needs `npm run build` (run by `npm ci` and `npm test`).
 */
export function createConsumerProject(): string {
  if (!fs.existsSync(path.join(ROOT, "dist", "components", "index.js"))) {
    throw new Error("dist/ is missing: run `npm run build` first");
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-proxmox-consumer-"));
  const installed = path.join(dir, "node_modules", "talos-proxmox");
  for (const file of packedFiles()) {
    fs.mkdirSync(path.dirname(path.join(installed, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(installed, file));
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  for (const dep of [...Object.keys(manifest.dependencies), "@types/node", "typescript"]) {
    const link = path.join(dir, "node_modules", dep);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(ROOT, "node_modules", dep), link, "dir");
  }
  return dir;
}

/** Type-checks a TypeScript project with its own tsconfig; returns tsc's report ("" when clean). */
export function typeCheck(projectDir: string): string {
  try {
    execFileSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", projectDir, "--noEmit"], {
      encoding: "utf8",
    });
    return "";
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

/** A program file as `runProgram` runs it: loading the module runs the program; its exports are the outputs. */
export function programAt(file: string): () => object {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return () => require(file) as object;
}
