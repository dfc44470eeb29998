import { FAKE_KUBECONFIG, FAKE_TALOSCONFIG, isSecretWrapper } from "../testkit/mocks";
import { PROXMOX_CONFIG, ProgramRun, runProgram, stackConfig } from "./helpers/program";

/**
 * Key material the mocks hand out (client key, machine secrets, rendered machine configs,
 * kubeconfig, talosconfig) and the Proxmox token from config: none of it may appear outside a
 * secret, in any registered input, stack output or log line.
 */
const SECRET_MATERIAL = [
  "CLIENT-KEY-VALUE",
  "CLUSTER-SECRET-VALUE",
  "machine:\n  token: secret",
  FAKE_KUBECONFIG,
  "KUBE-CLIENT-KEY-VALUE",
  "OS-CA-KEY-VALUE",
  "K8S-CA-KEY-VALUE",
  "ETCD-CA-KEY-VALUE",
  FAKE_TALOSCONFIG,
  PROXMOX_CONFIG["proxmoxve:apiToken"],
  // From the user's own patches and inline manifests (test below).
  "REGISTRY-PASSWORD-VALUE",
  "INLINE-SECRET-VALUE",
];

/** Paths of plain (non-secret) strings holding key material, walking into every value. */
function plainLeaks(value: unknown, path: string): string[] {
  if (isSecretWrapper(value)) return [];
  if (typeof value === "string") return SECRET_MATERIAL.some((s) => value.includes(s)) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plainLeaks(v, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => plainLeaks(v, `${path}.${k}`));
  }
  return [];
}

describe("secrets audit of the whole program", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram({ ...stackConfig("dev"), ...PROXMOX_CONFIG });
  });

  test("no registered input carries key material outside a secret", () => {
    const leaks = run.mocks.registrations.flatMap((r) => plainLeaks(r.inputs, `${r.type}(${r.name})`));
    expect(leaks).toEqual([]);
  });

  test("the inputs that carry key material are there, as secrets", () => {
    const secretInputs = run.mocks.registrations.flatMap((r) =>
      Object.entries(r.inputs)
        .filter(([, v]) => isSecretWrapper(v))
        .map(([k]) => `${r.type}.${k}`),
    );
    expect(new Set(secretInputs)).toEqual(
      new Set([
        "pulumi:providers:proxmoxve.apiToken",
        "talos:machine/configurationApply:ConfigurationApply.clientConfiguration",
        "talos:machine/configurationApply:ConfigurationApply.machineConfigurationInput",
        "talos:machine/bootstrap:Bootstrap.clientConfiguration",
        "pulumi-nodejs:dynamic:Resource.osCa",
        "pulumi-nodejs:dynamic:Resource.kubernetesCa",
        "pulumi-nodejs:dynamic:Resource.etcdCaCert",
        "pulumi:providers:kubernetes.kubeconfig",
        "pulumi-nodejs:dynamic:Resource.clientConfiguration",
        // The cluster's reboots call the Proxmox API for hardware changes (resources/talosReboots.ts).
        "pulumi-nodejs:dynamic:Resource.proxmoxConnection",
      ]),
    );
  });

  test("the reboots get the Proxmox connection from config as one secret, and each node's host and VM ID", () => {
    const reboots = run.mocks.registrations.find((r) => r.type === "pulumi-nodejs:dynamic:Resource" && r.name.endsWith("-reboots"))!;
    const connection = reboots.inputs.proxmoxConnection as { value: Record<string, unknown> };
    expect(isSecretWrapper(connection)).toBe(true);
    expect(JSON.stringify(connection.value)).toContain(PROXMOX_CONFIG["proxmoxve:apiToken"]);
    expect(connection.value.endpoint).toBe(PROXMOX_CONFIG["proxmoxve:endpoint"]);
    const vms = reboots.inputs.vms as Record<string, { host: string; vmId: unknown }>;
    expect(Object.values(vms).every((vm) => typeof vm.host === "string" && vm.vmId !== undefined)).toBe(true);
  });

  test("every stack output holding key material is a secret; the others are not", async () => {
    const secretness: Record<string, boolean> = {};
    for (const [key, output] of Object.entries(run.outputs)) secretness[key] = await run.pulumi.isSecret(output);
    const carrying = Object.keys(run.values).filter((k) => plainLeaks(run.values[k], k).length > 0);
    expect(carrying.sort()).toEqual(["kubeconfig", "talosconfig"]);
    for (const key of carrying) expect([key, secretness[key]]).toEqual([key, true]);
    expect(Object.entries(secretness).filter(([, s]) => s).map(([k]) => k).sort()).toEqual(["kubeconfig", "talosconfig"]);
  });

  test("nothing secret is logged by the program", async () => {
    // Debug lines are the SDK's own RPC traces (shown only with --debug); they echo raw invoke
    // inputs and engine responses. The program logs at info level and above.
    const even = await runProgram({
      ...stackConfig("dev"),
      ...PROXMOX_CONFIG,
      "talos-proxmox:nodes": JSON.stringify([
        { name: "a", ip: "10.0.10.21", role: "controlplane" },
        { name: "b", ip: "10.0.10.22", role: "controlplane" },
        { name: "c", ip: "10.0.10.23", role: "controlplane" },
        { name: "d", ip: "10.0.10.24", role: "controlplane" },
      ]),
    });
    const programLines = [...run.logs, ...even.logs].filter((line) => !line.startsWith("debug:"));
    expect(programLines).toContainEqual(expect.stringMatching(/^warn: nodes: 4 control planes is an even number/));
    for (const line of programLines) expect([line, plainLeaks(line, "log")]).toEqual([line, []]);
  });

  test("the stack files commit no credentials", () => {
    for (const stack of ["dev", "longhorn"]) expect(JSON.stringify(stackConfig(stack))).not.toMatch(/apiToken|password|PROXMOX_VE/i);
  });

  test("credentials in the user's patches and inline manifests stay secret: registrations, outputs, program logs", async () => {
    const withCredentials = await runProgram({
      ...stackConfig("dev"),
      ...PROXMOX_CONFIG,
      "talos-proxmox:patches": JSON.stringify([
        "apiVersion: v1alpha1\nkind: RegistryAuthConfig\nname: ghcr.io\nusername: bot\npassword: REGISTRY-PASSWORD-VALUE\n",
      ]),
      "talos-proxmox:inlineManifests": JSON.stringify([
        { name: "token", contents: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: t\nstringData:\n  t: INLINE-SECRET-VALUE\n" },
      ]),
    });
    // The patches reach the machine-config invoke (whose arguments the SDK sends plain and never
    // stores: @pulumi/pulumi runtime/invoke.js unwrapSecretValues); its result is a secret.
    const calls = withCredentials.mocks.callsOf("talos:machine/getConfiguration:getConfiguration");
    expect(JSON.stringify(calls.map((c) => c.inputs))).toContain("REGISTRY-PASSWORD-VALUE");
    expect(JSON.stringify(calls.map((c) => c.inputs))).toContain("INLINE-SECRET-VALUE");
    expect(withCredentials.mocks.registrations.flatMap((r) => plainLeaks(r.inputs, `${r.type}(${r.name})`))).toEqual([]);
    expect(Object.keys(withCredentials.values).filter((k) => plainLeaks(withCredentials.values[k], k).length > 0).sort()).toEqual(["kubeconfig", "talosconfig"]);
    // As above: debug lines are the SDK's own RPC traces.
    for (const line of withCredentials.logs.filter((l) => !l.startsWith("debug:"))) expect([line, plainLeaks(line, "log")]).toEqual([line, []]);
  });
});
