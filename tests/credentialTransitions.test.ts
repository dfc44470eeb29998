import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { type BootState, nodesToReboot } from "../resources/talosReboots";
import { FAKE_CREDENTIALS, RecordingMocks, unwrap } from "../testkit/mocks";
import { PROXMOX_CONFIG, ProgramRun, runProgram, toPulumiConfig } from "./helpers/program";
import { planUpdate } from "./helpers/transition";
import { LAB_NODES } from "./helpers/configCases";

/**
 * Renewal seen from the whole program: the credentials resource's update (decided by its diff
 * against the clock, which the mocks stand for here) hands out new client certificates, and the
 * resources that carry them update; nothing else changes, no node gets another config, none reboots.
 */

const BASE = { clusterName: "lab", vip: "10.0.20.10", vmIdBase: 2000, nodes: LAB_NODES };
const stack = (values: Record<string, unknown>) => ({
  ...Object.fromEntries(Object.entries(toPulumiConfig(values)).map(([k, v]) => [`talos-proxmox:${k}`, v])),
  ...PROXMOX_CONFIG,
});

const RENEWED = {
  clientConfiguration: { ...FAKE_CREDENTIALS.clientConfiguration, clientCertificate: "crt-renewed", clientKey: "CLIENT-KEY-VALUE-renewed" },
  kubernetesClient: { ...FAKE_CREDENTIALS.kubernetesClient, clientCertificate: "kube-crt-renewed", clientKey: "KUBE-CLIENT-KEY-VALUE-renewed" },
  notAfter: { ...FAKE_CREDENTIALS.notAfter, talosClient: "2028-03-01T00:00:00.000Z", kubernetesClient: "2028-03-01T00:00:00.000Z" },
};

/** The engine after the credentials resource's update: its outputs are the reissued certificates. */
class RenewedMocks extends RecordingMocks {
  async newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    const result = await super.newResource(args);
    return args.name === "cluster-credentials" ? { ...result, state: { ...result.state, ...RENEWED } } : result;
  }
}

const wantedOf = (run: ProgramRun) =>
  unwrap(run.mocks.ofType("pulumi-nodejs:dynamic:Resource").find((r) => r.name === "cluster-reboots")!.inputs.wanted) as Record<string, BootState>;
const inputsOf = (run: ProgramRun, type: string, name: string) => unwrap(run.mocks.ofType(type).find((r) => r.name === name)!.inputs) as Record<string, unknown>;

describe("credential renewal (same config, certificates reissued)", () => {
  let a: ProgramRun;
  let b: ProgramRun;
  beforeAll(async () => {
    a = await runProgram(stack(BASE));
    b = await runProgram(stack(BASE), { mocks: new RenewedMocks({}, a.mocks.state) });
  });

  // What those updates do: a config apply's update applies its (unchanged) config again, a
  // bootstrap's update only records the new inputs (terraform-provider-talos v0.9.0
  // talos_machine_configuration_apply_resource.go:264-302, talos_machine_bootstrap_resource.go:177-189);
  // our dynamic resources record them (no rollout: image and versions are unchanged; no reboot: see below).
  // The Kubernetes providers update, not replace: pulumi-kubernetes replaces a provider only when the
  // kubeconfig's active cluster (server, CA) changes, not its user (provider/pkg/provider/provider.go
  // DiffConfig :551-560 at v4.32.0-27-g94977969d), so no workload object is replaced.
  test("only the client configuration and the kubeconfig change, in place", () => {
    const steps = planUpdate(a, b);
    expect(steps.every((s) => s.op === "update")).toBe(true);
    const changed = new Set(steps.flatMap((s) => s.changed ?? []));
    expect([...changed].sort()).toEqual(["clientConfiguration.clientCertificate", "clientConfiguration.clientKey", "kubeconfig"]);
    expect(steps.map((s) => s.name).sort()).toEqual(
      [
        "cluster-bootstrap",
        "cluster-upgrade",
        "cluster-reboots",
        "cluster-k8s",
        ...LAB_NODES.flatMap((n) => [`cluster-apply-${n.name}`, `cluster-member-${n.name}`]),
      ].sort(),
    );
  });

  test("every node is sent the config it already has, and none reboots", () => {
    for (const n of LAB_NODES) {
      const before = inputsOf(a, "talos:machine/configurationApply:ConfigurationApply", `cluster-apply-${n.name}`);
      const after = inputsOf(b, "talos:machine/configurationApply:ConfigurationApply", `cluster-apply-${n.name}`);
      expect(after.machineConfigurationInput).toBe(before.machineConfigurationInput);
      expect(after.clientConfiguration).toEqual(RENEWED.clientConfiguration);
    }
    expect(nodesToReboot(wantedOf(a), wantedOf(b))).toEqual([]);
  });

  test("the upgrade, removal and reboot tasks get the reissued credentials, and the upgrade rolls nothing", () => {
    for (const name of ["cluster-upgrade", "cluster-reboots", ...LAB_NODES.map((n) => `cluster-member-${n.name}`)]) {
      expect([name, inputsOf(b, "pulumi-nodejs:dynamic:Resource", name).clientConfiguration]).toEqual([name, RENEWED.clientConfiguration]);
    }
    const before = inputsOf(a, "pulumi-nodejs:dynamic:Resource", "cluster-upgrade");
    const after = inputsOf(b, "pulumi-nodejs:dynamic:Resource", "cluster-upgrade");
    expect([after.image, after.targetVersion, after.kubernetesVersion]).toEqual([before.image, before.targetVersion, before.kubernetesVersion]);
  });

  test("the kubeconfig's cluster entry (server, CA) stays the same: only its user changes", () => {
    const kubeconfigOf = (run: ProgramRun) => YAML.parse(run.values.kubeconfig as string);
    expect(kubeconfigOf(b).clusters).toEqual(kubeconfigOf(a).clusters);
    expect(kubeconfigOf(b).users).not.toEqual(kubeconfigOf(a).users);
  });

  test("the outputs show the new dates and carry the new kubeconfig and talosconfig inputs", () => {
    expect((b.values.credentials as { talosconfig: { notAfter: string } }).talosconfig.notAfter).toBe("2028-03-01T00:00:00.000Z");
    expect(b.values.kubeconfig).toContain("client-key-data: KUBE-CLIENT-KEY-VALUE-renewed");
    const talosconfigCall = b.mocks.callsOf("talos:client/getConfiguration:getConfiguration")[0];
    expect(unwrap(talosconfigCall.inputs.clientConfiguration)).toEqual(RENEWED.clientConfiguration);
  });
});
