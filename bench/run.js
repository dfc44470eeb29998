// Runs a bench/*.ts script with the ts-node that @pulumi/pulumi vendors, in transpile-only mode,
// so the benchmark needs nothing beyond the project's own dependencies.
const path = require("node:path");
const root = path.join(__dirname, "..");
const tsNode = require(path.join(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "vendor", "ts-node@7.0.1"));
tsNode.register({ transpileOnly: true, project: path.join(root, "tsconfig.json"), compilerOptions: {} });
// The script sees the argv it would get if node ran it directly.
process.argv.splice(1, 1);
require(path.resolve(process.argv[1]));
