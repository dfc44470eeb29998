// `npm run build` (and `prepare`, so a git or folder install builds it): compiles the package into
// dist/ and copies what the compiled code reads at run time next to it.
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const root = path.join(__dirname, "..");
const dist = path.join(root, "dist");
fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(root, "tsconfig.build.json")], {
  stdio: "inherit",
});
// config/patches.ts reads the static patches from ../patches; talosapi/protos.ts its protos from ./proto.
fs.cpSync(path.join(root, "talosapi", "proto"), path.join(dist, "talosapi", "proto"), { recursive: true });
fs.cpSync(path.join(root, "patches"), path.join(dist, "patches"), { recursive: true });
// The Talos plugin declaration: Pulumi's language host finds it anywhere under node_modules.
fs.copyFileSync(path.join(root, "sdk", "talos", "package.json"), path.join(dist, "sdk", "talos", "package.json"));
// States written by release 0.1's providers hold the absolute path of dist/talosapi/tasks.js, and
// refresh and delete run that stored code: the tasks stay reachable there.
fs.writeFileSync(
  path.join(dist, "talosapi", "tasks.js"),
  '"use strict";\n// The tasks moved to engines/; states of the previous release load them through this path.\nmodule.exports = require("../engines/tasks");\n',
);
