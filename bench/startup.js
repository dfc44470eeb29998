// One start of the program the way `pulumi up` starts it: Pulumi's vendored ts-node, registered
// with the options @pulumi/pulumi's cmd/run builds from tsconfig.json. argv[2] "true" is the
// project's default (tsconfig noCheck, so transpile only); "false" is Pulumi's default for a
// tsconfig without noCheck (type-check every file). The engine is the mock runtime; prints the
// milliseconds until every registration finished.
const path = require("node:path");
const started = process.hrtime.bigint();
const root = path.join(__dirname, "..");
const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const tsutils = require(path.join(pulumiDir, "tsutils"));
const tsNode = require(path.join(pulumiDir, "vendor", "ts-node@7.0.1"));
const tsconfig = path.join(root, "tsconfig.json");
const transpileOnly = process.argv[2] === "true";
tsNode.register({
  compiler: "typescript",
  transpileOnly,
  project: tsconfig,
  skipProject: false,
  compilerOptions: {
    target: "ES2020",
    module: "nodenext",
    moduleResolution: "nodenext",
    sourceMap: "true",
    ...tsutils.loadTypeScriptCompilerOptions(tsconfig),
    // noCheck would also silence ts-node's checker; the checked variant runs without it.
    noCheck: transpileOnly,
  },
});
const { startProgram } = require("./harness.ts");
startProgram(3, {}).then(() => {
  process.stdout.write(JSON.stringify({ ms: Number(process.hrtime.bigint() - started) / 1e6 }));
});
