import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Where the compiled Talos API tasks live (`engines/tasks.js`): next to the components in the
 * package, or in `dist/` of a clone (built by `npm ci`). The dynamic providers capture this path
 * and load the module when they run, so nothing else of the program is serialized into the state.
 */
export function taskModulePath(here = __dirname): string {
  const packaged = path.join(here, "..", "engines", "tasks.js");
  return fs.existsSync(packaged) ? packaged : path.join(here, "..", "dist", "engines", "tasks.js");
}

/** Throws, naming the fix, when the compiled tasks are missing. */
export function requireBuiltTasks(what: string): void {
  if (!fs.existsSync(taskModulePath())) {
    throw new Error(`${what}: ${taskModulePath()} is missing; build the package first (npm run build; npm ci runs it)`);
  }
}
