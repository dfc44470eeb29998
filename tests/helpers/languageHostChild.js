// Child process of tests/helpers/languageHost.ts: runs a Pulumi program through the Node.js
// language host's own `run` (@pulumi/pulumi cmd/run/run.js, the code `pulumi up` runs), under the
// SDK's mock monitor instead of an engine. With no engine connected, the SDK's log writes to the
// console (log/index.ts error: console.error("error: [runtime] ...")), so stderr is what the
// CLI would show. Input: one JSON argument {project, stack, config, secretKeys, program}.
const Module = require("node:module");
const path = require("node:path");
const input = JSON.parse(process.argv[2]);
const sdk = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd()] }));
const pulumi = require(sdk);
pulumi.runtime.setMocks(
  { newResource: (a) => ({ id: `${a.name}_id`, state: a.inputs }), call: (a) => a.inputs },
  input.project,
  input.stack,
  false,
);
pulumi.runtime.setAllConfig(input.config, input.secretKeys);
process.env.PULUMI_NODEJS_TYPESCRIPT = "true";
process.env.PULUMI_NODEJS_TRANSPILE_ONLY = "true";
// run.js requires its package index only for an exit code; that index parses argv and starts a
// run of its own when loaded, so it is stood in for here.
const index = path.join(sdk, "cmd", "run", "index.js");
const stub = new Module(index);
stub.exports = { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 };
stub.loaded = true;
require.cache[index] = stub;
const { run } = require(path.join(sdk, "cmd", "run", "run.js"));
const reported = new Set();
// Not awaited, as the language host does not: a rejection reaches its unhandledRejection handler.
run({ _: [input.program] }, () => {}, (err) => reported.add(err), (err) => reported.has(err));
