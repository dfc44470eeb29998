import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { main } from "../../program";
import * as YAML from "yaml";
import { RecordingMocks, acknowledgeResourceHooks, settle, valueOf } from "../../testkit/mocks";

export const ROOT = path.join(__dirname, "..", "..");

/** A stack file's config as Pulumi hands it to a program: scalars as text, structures as JSON. */
export function stackConfig(stack: string): Record<string, string> {
  const file = YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  return toPulumiConfig(file.config);
}

export function toPulumiConfig(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]),
  );
}

/** Credentials a user would set with `pulumi config set [--secret]`. */
export const PROXMOX_CONFIG = {
  "proxmoxve:endpoint": "https://pve.example.test:8006/",
  "proxmoxve:apiToken": "root@pam!pulumi=11111111-2222-3333-4444-555555555555",
};
export const SECRET_KEYS = ["proxmoxve:apiToken"];

export interface ProgramRun {
  mocks: RecordingMocks;
  /** The program's stack outputs as Outputs. */
  outputs: Record<string, pulumi.Output<unknown>>;
  /** The same, resolved. */
  values: Record<string, unknown>;
  /** The @pulumi/pulumi instance the program ran with (for isSecret). */
  pulumi: typeof pulumi;
  logs: string[];
  /** What the engine was told about each resource beyond its inputs, by `type::name`. */
  requests: Map<string, RegistrationRequest>;
}

/** The parts of a RegisterResource request the mock API does not pass to `newResource`. */
export interface RegistrationRequest {
  type: string;
  name: string;
  /** The URN the mock monitor answered with. */
  urn: string;
  parent: string;
  custom: boolean;
  dependencies: string[];
  /** Property name → URNs its value came from. */
  propertyDependencies: Record<string, string[]>;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  replaceWith: string[];
  deleteBeforeReplace: boolean;
  /** URN of the resource whose deletion makes this one's delete unnecessary ("" for none). */
  deletedWith: string;
  aliases: AliasSpec[];
  /** Hook names by kind, e.g. `{ beforeUpdate: ["talos-health"] }`. */
  hooks: Record<string, string[]>;
  /** The provider reference `<provider urn>::<id>` ("" for the default provider). */
  provider: string;
  /** Outputs the engine stores as secrets whatever the provider says. */
  additionalSecretOutputs: string[];
  /**
   * Every other field of the request (plugin version, provider reference, protect, timeouts, ...):
   * the request as the SDK's protobuf `toObject` gives it, without the inputs (`object`, recorded by
   * the mocks) and the registration's source position and stack trace (lines of this repository's code).
   */
  otherFields: Record<string, unknown>;
}

/** One alias as the engine receives it: a full URN, or a spec relative to the resource. */
export interface AliasSpec {
  urn?: string;
  name?: string;
  type?: string;
  /** Parent URN; "" for none given; `noParent` for the stack root. */
  parentUrn?: string;
  noParent?: boolean;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function describeRequest(req: any, urn: string): RegistrationRequest {
  const hooks: Record<string, string[]> = {};
  const binding = req.getHooks();
  if (binding) {
    for (const kind of ["BeforeCreate", "AfterCreate", "BeforeUpdate", "AfterUpdate", "BeforeDelete", "AfterDelete"]) {
      const names = binding[`get${kind}List`]() as string[];
      if (names.length > 0) hooks[kind[0].toLowerCase() + kind.slice(1)] = names;
    }
  }
  const propertyDependencies: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
    propertyDependencies[key] = deps.getUrnsList();
  });
  return {
    type: req.getType(),
    name: req.getName(),
    urn,
    parent: req.getParent(),
    custom: req.getCustom(),
    dependencies: req.getDependenciesList(),
    propertyDependencies,
    ignoreChanges: req.getIgnorechangesList(),
    replaceOnChanges: req.getReplaceonchangesList(),
    replaceWith: req.getReplaceWithList(),
    deleteBeforeReplace: req.getDeletebeforereplace(),
    deletedWith: req.getDeletedwith(),
    aliases: req.getAliasesList().map((a: any) =>
      a.hasUrn()
        ? { urn: a.getUrn() }
        : {
            name: a.getSpec().getName() || undefined,
            type: a.getSpec().getType() || undefined,
            parentUrn: a.getSpec().getParenturn() || undefined,
            noParent: a.getSpec().getNoparent() || undefined,
          },
    ),
    hooks,
    provider: req.getProvider(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    otherFields: Object.fromEntries(
      Object.entries(req.toObject() as Record<string, unknown>).filter(([key]) => !["object", "sourceposition", "stacktrace"].includes(key)),
    ),
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * Runs the stack program under the mock runtime with the given config and waits until every
 * registration finished. Each run gets a new mock monitor, so a test file can run it many times.
 */
export interface RunOptions {
  latencyMs?: Record<string, number>;
  stack?: string;
  mocks?: RecordingMocks;
  /** The program to run, returning its stack outputs. Default: this repository's stack program. */
  program?: () => object;
  /** Project name (the namespace of the program's own config). Default: `talos-proxmox`. */
  project?: string;
  /** Run each registration's before-create/before-update hooks first, as the engine does (RecordingMocks.runBeforeHooks). */
  runHooks?: boolean;
}

export async function runProgram(config: Record<string, string>, options: RunOptions = {}): Promise<ProgramRun> {
  const mocks = options.mocks ?? new RecordingMocks(options.latencyMs);
  const logs: string[] = [];
  const requests = new Map<string, RegistrationRequest>();
  // A new mock monitor per run; the modules stay loaded (the program is a function).
  await pulumi.runtime.setMocks(mocks, options.project ?? "talos-proxmox", options.stack ?? "dev", false);
  pulumi.runtime.setAllConfig(config, SECRET_KEYS);
  for (const level of ["debug", "info", "warn", "error"] as const) {
    jest.spyOn(pulumi.log, level).mockImplementation(async (...args: unknown[]) => void logs.push(`${level}: ${args[0]}`));
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) => {
    const answer = () =>
      register(req, (err: unknown, resp: { getUrn(): string }) => {
        if (!err) requests.set(`${req.getType()}::${req.getName()}`, describeRequest(req, resp.getUrn()));
        callback(err, resp);
      });
    if (!options.runHooks) return answer();
    void mocks.runBeforeHooks(req).then(answer, (error: unknown) => callback(error, undefined));
  };
  acknowledgeResourceHooks();
  // The SDK formats a stack trace for every promise it tracks (runtime/debuggable.js), through
  // jest's source maps: most of a run's time. The program's errors are asserted by message.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const outputs = (options.program ?? main)() as Record<string, pulumi.Output<unknown>>;
    const values: Record<string, unknown> = {};
    for (const [key, output] of Object.entries(outputs)) values[key] = await valueOf(output);
    await settle();
    return { mocks, outputs, values, pulumi, logs, requests };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}
