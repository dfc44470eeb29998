import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RunError } from "@pulumi/pulumi";
import { requireBuiltTasks, staleBuild } from "../resources/taskModule";

/** A repository-shaped folder: sources and their compiled files, with the modification times given (seconds). */
function checkout(files: Record<string, number>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "stale-build-"));
  for (const [file, mtime] of Object.entries(files)) {
    fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), "");
    fs.utimesSync(path.join(root, file), mtime, mtime);
  }
  return root;
}
const tasksOf = (root: string) => path.join(root, "dist", "engines", "tasks.js");
const roots: string[] = [];
const repo = (files: Record<string, number>) => {
  const root = checkout({ "engines/tasks.ts": 100, "dist/engines/tasks.js": 200, ...files });
  roots.push(root);
  return root;
};
afterAll(() => roots.forEach((root) => fs.rmSync(root, { recursive: true, force: true })));

describe("a build older than its sources, in this repository", () => {
  test("an up-to-date build passes", () => {
    const root = repo({ "config/talosSchema/schema.ts": 100, "dist/config/talosSchema/schema.js": 200 });
    expect(staleBuild(tasksOf(root))).toBeUndefined();
  });

  test("a source edited after the build is named, with the fix", () => {
    const root = repo({ "config/talosSchema/schema.ts": 300, "dist/config/talosSchema/schema.js": 200 });
    expect(staleBuild(tasksOf(root))).toBe(
      `${path.join("config", "talosSchema", "schema.ts")} changed after it was built: the dynamic resources' providers run the compiled code in dist/, so run npm run build first`,
    );
  });

  test("a source never built is named", () => {
    const root = repo({ "resources/newResource.ts": 100 });
    expect(staleBuild(tasksOf(root))).toMatch(/^resources[\\/]newResource\.ts changed after it was built/);
  });

  test("sources outside what the providers run (components, tests) are not looked at", () => {
    const root = repo({ "components/cluster.ts": 300, "tests/a.test.ts": 300 });
    expect(staleBuild(tasksOf(root))).toBeUndefined();
  });

  test("an installed package has no sources beside dist/: nothing to compare", () => {
    const root = checkout({ "dist/engines/tasks.js": 200, "dist/config/domain.js": 200 });
    roots.push(root);
    expect(staleBuild(tasksOf(root))).toBeUndefined();
  });

  test("this repository's own build, made by npm test before jest, is current", () => {
    expect(staleBuild(path.join(__dirname, "..", "dist", "engines", "tasks.js"))).toBeUndefined();
  });
});

describe("the program's refusal", () => {
  test("names the resource and the fix, as a RunError (printed without a stack trace)", () => {
    const root = repo({ "engines/volumes.ts": 300, "dist/engines/volumes.js": 200, "package.json": 100 });
    fs.writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: "talos-proxmox" }));
    const cwd = process.cwd();
    process.chdir(root);
    try {
      let thrown: unknown;
      try {
        requireBuiltTasks("TalosMember");
      } catch (error) {
        thrown = error;
      }
      expect((thrown as Error).message).toMatch(/^TalosMember: engines[\\/]volumes\.ts changed after it was built: .* so run npm run build first$/);
      expect(RunError.isInstance(thrown)).toBe(true);
    } finally {
      process.chdir(cwd);
    }
  });
});
