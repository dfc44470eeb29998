// Child process of tests/dynamicProviders.test.ts, run by bench/run.js (the ts-node that `pulumi up`
// uses, transpile-only): one run of a program under the mock engine in a fresh Node process, with
// Pulumi's closure serializer watched. Argument: a JavaScript program file to run instead of this
// repository's stack program (the dev stack). Prints JSON: each dynamic resource's `__provider`
// text by name, the serializer's calls, and which of its modules were loaded.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { RecordingMocks, acknowledgeResourceHooks, settle } from "../../testkit/mocks";

export interface ProgramChildReport {
  providerTexts: Record<string, string>;
  serializerCalls: string[];
  closureModules: string[];
}

/** Counts calls to the serializer: `pulumi.dynamic.Resource` calls it through the module's exports (pulumi/pulumi v3.248.0 sdk/nodejs/dynamic/index.ts:261-263). */
function watchSerializer(): string[] {
  const calls: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const closure = require("@pulumi/pulumi/runtime/closure/serializeClosure") as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ["serializeFunction", "serializeFunctionAsync"]) {
    const original = closure[name];
    closure[name] = (...args: unknown[]) => (calls.push(name), original(...args));
  }
  return calls;
}

async function main(program: string | undefined): Promise<void> {
  const serializerCalls = watchSerializer();
  const mocks = new RecordingMocks();
  await pulumi.runtime.setMocks(mocks, "talos-proxmox", "dev", false);
  // Loaded after the mocks, as the test helpers load them (they read the config when a run starts).
  const { PROXMOX_CONFIG, SECRET_KEYS, stackConfig } = await import("./program");
  pulumi.runtime.setAllConfig({ ...stackConfig("dev"), ...PROXMOX_CONFIG }, SECRET_KEYS);
  acknowledgeResourceHooks();
  if (program) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(path.resolve(program));
  } else {
    (await import("../../program")).main();
  }
  await settle();
  const providerTexts = Object.fromEntries(mocks.ofType("pulumi-nodejs:dynamic:Resource").map((r) => [r.name, r.inputs.__provider as string]));
  const closureModules = Object.keys(require.cache)
    .filter((file) => file.includes(`${path.sep}runtime${path.sep}closure${path.sep}`))
    .map((file) => path.basename(file));
  const report: ProgramChildReport = { providerTexts, serializerCalls, closureModules };
  process.stdout.write(JSON.stringify(report));
}

void main(process.argv[2]);
