import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as talos from "../sdk/talos";
import { invokeOptions } from "../sdk/talos/plugin";
import { RecordingMocks, isSecretWrapper, settle, useMocks, valueOf } from "../testkit/mocks";

/**
 * Transcribed from ../shared/reference/providers.md, section A (pulumiverse/pulumi-talos v0.8.1):
 * token, every input, the required inputs, the outputs kept secret and the inputs the SDK wraps
 * as secrets. `secretOutputs` of Secrets and Kubeconfig's kubernetesClientConfiguration are
 * top-level properties holding fields the schema marks secret (clientKey, keys, tokens).
 */
interface ResourceRow {
  ctor: unknown;
  token: string;
  inputs: string[];
  required: string[];
  secretOutputs: string[];
  secretInputs: string[];
}
interface InvokeRow {
  fn: unknown;
  token: string;
  inputs: string[];
  required: string[];
  secretResult: boolean;
}

const RESOURCES: ResourceRow[] = [
  {
    ctor: talos.machine.Secrets,
    token: "talos:machine/secrets:Secrets",
    inputs: ["talosVersion"],
    required: [],
    secretOutputs: ["clientConfiguration", "machineSecrets"],
    secretInputs: [],
  },
  {
    ctor: talos.machine.ConfigurationApply,
    token: "talos:machine/configurationApply:ConfigurationApply",
    inputs: [
      "node",
      "endpoint",
      "clientConfiguration",
      "clientConfigurationWo",
      "machineConfigurationInput",
      "machineConfigurationInputWo",
      "configPatches",
      "applyMode",
      "onDestroy",
      "timeouts",
    ],
    required: ["node"],
    secretOutputs: [
      "clientConfigurationWo",
      "machineConfiguration",
      "machineConfigurationInput",
      "machineConfigurationInputWo",
    ],
    secretInputs: ["clientConfigurationWo", "machineConfigurationInput", "machineConfigurationInputWo"],
  },
  {
    ctor: talos.machine.Bootstrap,
    token: "talos:machine/bootstrap:Bootstrap",
    inputs: ["node", "endpoint", "clientConfiguration", "clientConfigurationWo", "timeouts"],
    required: ["node"],
    secretOutputs: ["clientConfigurationWo"],
    secretInputs: ["clientConfigurationWo"],
  },
  {
    ctor: talos.cluster.Kubeconfig,
    token: "talos:cluster/kubeconfig:Kubeconfig",
    inputs: ["clientConfiguration", "node", "endpoint", "certificateRenewalDuration", "timeouts"],
    required: ["clientConfiguration", "node"],
    secretOutputs: ["kubeconfigRaw", "kubernetesClientConfiguration"],
    secretInputs: [],
  },
  {
    ctor: talos.imageFactory.Schematic,
    token: "talos:imageFactory/schematic:Schematic",
    inputs: ["schematic"],
    required: [],
    secretOutputs: [],
    secretInputs: [],
  },
];

const INVOKES: InvokeRow[] = [
  {
    fn: talos.machine.getConfigurationOutput,
    token: "talos:machine/getConfiguration:getConfiguration",
    inputs: [
      "clusterEndpoint",
      "clusterName",
      "machineSecrets",
      "machineType",
      "configPatches",
      "docs",
      "examples",
      "kubernetesVersion",
      "talosVersion",
    ],
    required: ["clusterEndpoint", "clusterName", "machineSecrets", "machineType"],
    secretResult: true,
  },
  {
    fn: talos.client.getConfigurationOutput,
    token: "talos:client/getConfiguration:getConfiguration",
    inputs: ["clientConfiguration", "clusterName", "endpoints", "nodes"],
    required: ["clientConfiguration", "clusterName"],
    secretResult: true,
  },
  {
    fn: talos.cluster.getHealthOutput,
    token: "talos:cluster/getHealth:getHealth",
    inputs: ["clientConfiguration", "controlPlaneNodes", "endpoints", "workerNodes", "skipKubernetesChecks", "timeouts"],
    required: ["clientConfiguration", "controlPlaneNodes", "endpoints"],
    secretResult: false,
  },
  {
    fn: talos.imageFactory.getUrlsOutput,
    token: "talos:imageFactory/getUrls:getUrls",
    inputs: ["schematicId", "talosVersion", "architecture", "platform", "sbc"],
    required: ["schematicId", "talosVersion"],
    secretResult: false,
  },
];

/** A plausible value for every input name, so each key reaches the engine. */
function sampleArgs(keys: string[]): Record<string, unknown> {
  const client = { caCertificate: "ca", clientCertificate: "crt", clientKey: "key" };
  const samples: Record<string, unknown> = {
    clientConfiguration: client,
    clientConfigurationWo: client,
    machineSecrets: { cluster: { id: "i", secret: "s" } },
    configPatches: ["machine: {}"],
    onDestroy: { reset: false },
    timeouts: { create: "1m" },
    docs: false,
    examples: false,
    skipKubernetesChecks: false,
    endpoints: ["10.0.0.1"],
    nodes: ["10.0.0.1"],
    controlPlaneNodes: ["10.0.0.1"],
    workerNodes: ["10.0.0.2"],
  };
  return Object.fromEntries(keys.map((k) => [k, samples[k] ?? `${k}-value`]));
}

const without = (args: Record<string, unknown>, key: string) =>
  Object.fromEntries(Object.entries(args).filter(([k]) => k !== key));

type AnyCtor = new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;
type AnyInvoke = (args: never, opts?: pulumi.InvokeOutputOptions) => pulumi.Output<unknown>;

describe("Talos binding matches provider v0.8.1", () => {
  let mocks: RecordingMocks;
  beforeEach(() => {
    mocks = new RecordingMocks();
    useMocks(mocks);
  });

  describe.each(RESOURCES)("$token", (row) => {
    const Ctor = row.ctor as unknown as AnyCtor;

    test("registers the token with every input name and the plugin's version and server", async () => {
      let seen: pulumi.ResourceOptions | undefined;
      const capture = (a: pulumi.ResourceTransformationArgs) => {
        seen = a.opts;
        return undefined;
      };
      new Ctor("r", sampleArgs(row.inputs) as never, { transformations: [capture] });
      await settle();
      const [registration] = mocks.registrations;
      expect(registration.type).toBe(row.token);
      expect(Object.keys(registration.inputs).sort()).toEqual([...row.inputs].sort());
      expect(seen?.version).toBe("0.8.1");
      expect(seen?.pluginDownloadURL).toBe("github://api.github.com/pulumiverse");
      const secretOutputs = (seen as pulumi.CustomResourceOptions).additionalSecretOutputs ?? [];
      expect([...secretOutputs].sort()).toEqual([...row.secretOutputs].sort());
      for (const key of row.inputs) {
        expect([key, isSecretWrapper(registration.inputs[key])]).toEqual([key, row.secretInputs.includes(key)]);
      }
    });

    test("throws without each required input, and needs nothing else", () => {
      for (const key of row.required) {
        expect(() => new Ctor("r", without(sampleArgs(row.inputs), key) as never)).toThrow(
          `Missing required property '${key}'`,
        );
      }
      expect(() => new Ctor("only-required", sampleArgs(row.required) as never)).not.toThrow();
    });

    test("the caller's options win over the plugin defaults", async () => {
      let seen: pulumi.ResourceOptions | undefined;
      new Ctor("r", sampleArgs(row.inputs) as never, {
        version: "9.9.9",
        transformations: [(a) => ((seen = a.opts), undefined)],
      });
      await settle();
      expect(seen?.version).toBe("9.9.9");
    });
  });

  describe.each(INVOKES)("$token", (row) => {
    const fn = row.fn as unknown as AnyInvoke;

    test("invokes the token with every input name", async () => {
      const result = fn(sampleArgs(row.inputs) as never);
      await valueOf(result);
      const [call] = mocks.calls;
      expect(call.token).toBe(row.token);
      expect(Object.keys(call.inputs).sort()).toEqual([...row.inputs].sort());
      expect(await pulumi.isSecret(result)).toBe(row.secretResult);
    });

    test("keeps a secret input secret in the result", async () => {
      const args = sampleArgs(row.inputs);
      const first = row.required[0];
      const result = fn({ ...args, [first]: pulumi.secret(args[first]) } as never);
      expect(await pulumi.isSecret(result)).toBe(true);
    });

    test("throws without each required input", () => {
      for (const key of row.required) {
        expect(() => fn(without(sampleArgs(row.inputs), key) as never)).toThrow(`Missing required property '${key}'`);
      }
    });
  });

  test("invoke options carry the plugin version and server; the caller's win", () => {
    expect(invokeOptions(undefined)).toEqual({
      version: "0.8.1",
      pluginDownloadURL: "github://api.github.com/pulumiverse",
    });
    expect(invokeOptions({ version: "1.0.0" }).version).toBe("1.0.0");
  });

  test("the explicit provider registers as pulumi:providers:talos", async () => {
    new talos.Provider("talos", { imageFactoryUrl: "https://factory.example.test" });
    await settle();
    expect(mocks.registrations.map((r) => [r.type, r.inputs.imageFactoryUrl])).toEqual([
      ["pulumi:providers:talos", "https://factory.example.test"],
    ]);
  });

  test("the plugin declaration the language host reads matches the binding", () => {
    const declared = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "sdk", "talos", "package.json"), "utf8"));
    expect(declared.pulumi).toEqual({
      resource: true,
      name: talos.PLUGIN_NAME,
      version: talos.PLUGIN_VERSION,
      server: talos.PLUGIN_DOWNLOAD_URL,
    });
    // Installed as a dependency, so it sits under node_modules where the language host looks.
    const linked = path.join(__dirname, "..", "node_modules", "@talos-proxmox", "talos-plugin", "package.json");
    expect(JSON.parse(fs.readFileSync(linked, "utf8")).pulumi.name).toBe("talos");
  });
});
