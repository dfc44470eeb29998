// `node scripts/parallel.js a b`: runs the npm scripts a and b side by side (the type check and
// the lint are single-threaded, and CI has two cores), prints each one's output once it ends, and
// fails when any of them failed.
const { spawn } = require("node:child_process");

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const runs = process.argv.slice(2).map(
  (script) =>
    new Promise((resolve) => {
      const child = spawn(npm, ["run", "--silent", script], { stdio: ["ignore", "pipe", "pipe"] });
      const output = [];
      child.stdout.on("data", (chunk) => output.push(chunk));
      child.stderr.on("data", (chunk) => output.push(chunk));
      child.on("close", (code) => {
        process.stdout.write(`> ${script}${code === 0 ? "" : ` (exit ${code})`}\n${Buffer.concat(output).toString()}`);
        resolve(code === 0);
      });
    }),
);
Promise.all(runs).then((ok) => {
  process.exitCode = ok.every(Boolean) ? 0 : 1;
});
