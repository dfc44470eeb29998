import { spawnSync } from "node:child_process";
import * as path from "node:path";

export interface HostRun {
  /** What the CLI would print as the program's diagnostics. */
  stderr: string;
  stdout: string;
}

/**
 * Runs a program the way `pulumi up` does (the Node.js language host's `run`, ts-node and its
 * uncaught-error handler), under the mock monitor, and returns what it printed.
 */
export function runLikeLanguageHost(
  projectDir: string,
  options: { project: string; stack: string; config: Record<string, string>; secretKeys?: string[]; program?: string },
): HostRun {
  const input = { program: "index.ts", secretKeys: [], ...options };
  const child = spawnSync(process.execPath, [path.join(__dirname, "languageHostChild.js"), JSON.stringify(input)], {
    cwd: projectDir,
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
    timeout: 60_000,
  });
  return { stderr: child.stderr, stdout: child.stdout };
}
