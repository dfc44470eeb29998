import * as pulumi from "@pulumi/pulumi";
import { PROVIDER_KEY } from "./taskModule";

/**
 * The type token of a dynamic resource, as `pulumi.dynamic.Resource` builds it without a module
 * or type (pulumi/pulumi v3.248.0 sdk/nodejs/dynamic/index.ts:311): our resources keep it, so their
 * URNs and the engine's choice of provider (the `pulumi-nodejs` provider host) stay as they were.
 */
export const DYNAMIC_RESOURCE_TYPE = "pulumi-nodejs:dynamic:Resource";

/** Where a dynamic provider lives in the compiled package: `dist/<file>`, export `exportName`. */
export interface ProviderModule {
  /** The compiled module, relative to `dist/`, e.g. `resources/talosUpgrade.js`. */
  file: string;
  /** The module's export that is the provider object. */
  exportName: string;
}

/**
 * The `__provider` text of a dynamic resource whose provider is `provider` of the talos-proxmox
 * package in the project directory. Constant: it holds no path and no code of the provider, so it
 * is the same from every checkout, machine, compiler and package version.
 *
 * Pulumi's provider host turns the text into a provider with `requireFromString(text).handler()`
 * (pulumi/pulumi v3.248.0 sdk/nodejs/cmd/dynamic-provider/index.ts:69-84; require-from-string
 * 2.0.2 compiles it as a CommonJS module named "", whose `require` looks in the node_modules
 * folders of the working directory), once per text and process (the cache is keyed by the text),
 * and runs check, diff, create and update from the new inputs' text and read and delete from the
 * state's (index.ts:147,210,253,273,317,336). It runs in the project's directory
 * (sdk/go/common/resource/plugin/plugin.go:599 `cmd.Dir = pwd`), where `handler` finds the package
 * the way taskModule.ts `taskModulePath` finds the tasks: installed, or this repository's `dist/`.
 */
export function providerText(provider: ProviderModule): string {
  const file = JSON.stringify(`dist/${provider.file}`);
  return `"use strict";
// talos-proxmox: Pulumi's provider host loads this resource's provider from the talos-proxmox
// package of the project it runs in (installed, or the package's own built repository).
var FILE = ${file};
var EXPORT = ${JSON.stringify(provider.exportName)};
function locate(projectDir) {
  var path = require("node:path");
  var fs = require("node:fs");
  try {
    return require.resolve("talos-proxmox/" + FILE, { paths: [projectDir] });
  } catch (notInstalled) {
    // The project may be the package's own repository.
  }
  for (var dir = path.resolve(projectDir); ; dir = path.dirname(dir)) {
    var manifest = path.join(dir, "package.json");
    var built = path.join(dir, FILE);
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === "talos-proxmox" && fs.existsSync(built)) return built;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error("the compiled provider " + FILE + " of talos-proxmox was not found from " + projectDir +
    ": run pulumi in the project's directory, with the package installed (npm install talos-proxmox) or, " +
    "in its own repository, built (npm run build; npm ci runs it)");
}
exports.handler = function () {
  var found = locate(process.cwd());
  var provider = require(found)[EXPORT];
  if (!provider) throw new Error(found + " has no export " + EXPORT + ": install the talos-proxmox version that wrote this stack, or a later one");
  return provider;
};
`;
}

/**
 * A dynamic resource whose provider is loaded by the provider host from the installed package
 * (see {@link providerText}), not serialized from the program: `pulumi.dynamic.Resource`'s
 * constructor runs Pulumi's closure serializer (sdk/nodejs/dynamic/index.ts:257-273), which opens a
 * V8 inspector session and loads every Node built-in module once per process (about 1.3 s;
 * docs/performance.md). Same type token and inputs as `pulumi.dynamic.Resource`, `__provider` a
 * plain known string as the serializer's output was (index.ts:266-272, known, secret only when it
 * captured a secret, which ours never did), so existing states keep their URNs.
 */
export abstract class PackagedDynamicResource extends pulumi.CustomResource {
  constructor(provider: ProviderModule, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(DYNAMIC_RESOURCE_TYPE, name, { ...props, [PROVIDER_KEY]: providerText(provider) }, opts);
  }
}
