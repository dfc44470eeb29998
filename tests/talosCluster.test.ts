import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { validateConfig } from "../config/validate";
import { healthGateHook } from "../components/healthGate";
import { TalosCluster } from "../components/talosCluster";
import { base, node } from "./helpers/configCases";
import { FAKE_CREDENTIALS, InvokeCall, RecordingMocks, Registration, isSecretWrapper, settle, unwrap, useMocks, valueOf } from "../testkit/mocks";

const T = {
  vm: "proxmoxve:index/vmLegacy:VmLegacy",
  apply: "talos:machine/configurationApply:ConfigurationApply",
  bootstrap: "talos:machine/bootstrap:Bootstrap",
  kubeconfig: "talos:cluster/kubeconfig:Kubeconfig",
  machineConfig: "talos:machine/getConfiguration:getConfiguration",
  health: "talos:cluster/getHealth:getHealth",
  stash: "pulumi:index:Stash",
  talosconfig: "talos:client/getConfiguration:getConfiguration",
};
const INSTALLER = "factory.talos.dev/metal-installer/abc:v1.13.9";

describe("TalosCluster (3 control planes + 1 worker)", () => {
  // Slow steps, so any missing dependency would let a later step arrive too early.
  const mocks = new RecordingMocks({ [T.vm]: 30, [T.apply]: 30, [T.bootstrap]: 30 });
  const spec = validateConfig({
    ...base(),
    talosVersion: "v1.13.9",
    kubernetesVersion: "1.34.1",
    nodes: [node(1), node(2), node(3), node(4, { role: "worker" })],
  }).spec;
  let cluster: TalosCluster;

  beforeAll(async () => {
    useMocks(mocks);
    const vms = Object.fromEntries(
      spec.nodes.map((n) => [n.name, new proxmoxve.VmLegacy(n.name, { nodeName: n.host, name: n.name })]),
    );
    cluster = new TalosCluster("demo", { spec, installerImage: pulumi.output(INSTALLER), vms });
    await valueOf(cluster.kubeconfig);
    await valueOf(cluster.talosconfig);
    await settle();
  });

  const one = (type: string, name: string): Registration => {
    const found = mocks.registrations.filter((r) => r.type === type && r.name === name);
    expect(found).toHaveLength(1);
    return found[0];
  };
  const onlyCall = (token: string): InvokeCall => {
    const calls = mocks.callsOf(token);
    expect(calls).toHaveLength(1);
    return calls[0];
  };

  test("one machine config per node, for its role, endpoint, versions and patches", () => {
    const calls = mocks.callsOf(T.machineConfig);
    expect(calls).toHaveLength(4);
    const byHost = new Map(
      calls.map((c) => {
        const patches = (unwrap(c.inputs.configPatches) as string[]).flatMap((p) => YAML.parseAllDocuments(p));
        const hostname = patches.map((d) => d.toJSON()).find((d) => d.kind === "HostnameConfig").hostname;
        return [hostname, { inputs: unwrap(c.inputs) as Record<string, unknown>, docs: patches.map((d) => d.toJSON()) }];
      }),
    );
    for (const n of spec.nodes) {
      const { inputs, docs } = byHost.get(n.name)!;
      expect(inputs).toMatchObject({
        clusterName: "demo-cluster",
        clusterEndpoint: "https://10.0.10.10:6443",
        machineType: n.role,
        talosVersion: "v1.13.9",
        kubernetesVersion: "1.34.1",
        docs: false,
        examples: false,
      });
      expect(docs).toContainEqual({ machine: { install: { disk: "/dev/sda", image: INSTALLER } } });
      const vip = docs.filter((d: { kind?: string }) => d.kind === "Layer2VIPConfig");
      expect(vip).toHaveLength(n.role === "controlplane" ? 1 : 0);
    }
  });

  test("every config is generated from the one set of machine secrets", () => {
    expect(mocks.ofType("talos:machine/secrets:Secrets").map((r) => unwrap(r.inputs))).toEqual([
      { talosVersion: "v1.13.9" },
    ]);
    for (const call of mocks.callsOf(T.machineConfig)) {
      expect(call.inputs.machineSecrets).toMatchObject({ cluster: { id: "cluster-id" } });
    }
  });

  test("each node's config is applied to its IP, as a secret, after its VM exists", () => {
    for (const n of spec.nodes) {
      const apply = one(T.apply, `demo-apply-${n.name}`);
      expect(unwrap(apply.inputs)).toMatchObject({ node: n.ip, onDestroy: { reset: false } });
      expect(isSecretWrapper(apply.inputs.machineConfigurationInput)).toBe(true);
      expect(isSecretWrapper(apply.inputs.clientConfiguration)).toBe(true);
      expect(apply.arrived).toBeGreaterThan(one(T.vm, n.name).completed!);
    }
  });

  test("bootstrap runs once, on the first control plane, after every control-plane apply", () => {
    const bootstrap = one(T.bootstrap, "demo-bootstrap");
    expect(mocks.ofType(T.bootstrap)).toHaveLength(1);
    expect(unwrap(bootstrap.inputs)).toMatchObject({ node: "10.0.10.11" });
    for (const n of spec.nodes.filter((x) => x.role === "controlplane")) {
      expect(bootstrap.arrived).toBeGreaterThan(one(T.apply, `demo-apply-${n.name}`).completed!);
    }
    expect(cluster.bootstrapNode).toBe("talos-demo-01");
  });

  test("the health gate records the bootstrap and every node's applied config, after all of them", () => {
    const gate = one(T.stash, "demo-health");
    expect(unwrap(gate.inputs.input)).toEqual({
      bootstrap: "demo-bootstrap-id",
      nodes: Object.fromEntries(
        spec.nodes.map((n) => [n.name, { role: n.role, ip: n.ip, config: expect.stringMatching(/^[0-9a-f]{64}$/) }]),
      ),
    });
    expect(gate.arrived).toBeGreaterThan(one(T.bootstrap, "demo-bootstrap").completed!);
    expect(gate.arrived).toBeGreaterThan(one(T.apply, "demo-apply-talos-demo-04").completed!);
    // Health is checked by the gate's hook, never by an invoke on every run.
    expect(mocks.callsOf(T.health)).toEqual([]);
  });

  test("the health hook checks the control-plane IPs as nodes and endpoints, and the workers", async () => {
    const gate = one(T.stash, "demo-health");
    const hook = healthGateHook("test-health", {
      clientConfiguration: cluster.clientConfiguration,
      timeout: "10m",
      cniAfterGate: false,
    });
    await hook.callback({ urn: "u", id: "i", name: "demo-health", type: T.stash, newInputs: { input: unwrap(gate.inputs.input) } });
    expect(unwrap(onlyCall(T.health).inputs)).toMatchObject({
      controlPlaneNodes: ["10.0.10.11", "10.0.10.12", "10.0.10.13"],
      endpoints: ["10.0.10.11", "10.0.10.12", "10.0.10.13"],
      workerNodes: ["10.0.10.14"],
      skipKubernetesChecks: false,
      timeouts: { read: "10m" },
      clientConfiguration: { clientKey: "CLIENT-KEY-VALUE" },
    });
    expect(hook.opts?.onDryRun ?? false).toBe(false);
  });

  test("the kubeconfig is Talos's admin kubeconfig around the reissuable client certificate, for the endpoint", async () => {
    expect(mocks.ofType(T.kubeconfig)).toEqual([]);
    const config = YAML.parse(await valueOf(cluster.kubeconfig));
    expect(config["current-context"]).toBe("admin@demo-cluster");
    expect(config.clusters[0].cluster.server).toBe(spec.endpoint);
    expect(config.clusters[0].cluster["certificate-authority-data"]).toBe(FAKE_CREDENTIALS.kubernetesClient.caCertificate);
    expect(config.users[0].user["client-key-data"]).toBe(FAKE_CREDENTIALS.kubernetesClient.clientKey);
  });

  test("every Talos resource and task gets the credentials resource's client configuration, none the provider's own", () => {
    const users = mocks.registrations.filter((r) => "clientConfiguration" in r.inputs && r.name !== "demo-credentials");
    expect(users.length).toBeGreaterThan(5);
    for (const r of users) expect([r.name, unwrap(r.inputs.clientConfiguration)]).toEqual([r.name, FAKE_CREDENTIALS.clientConfiguration]);
    const credentials = one("pulumi-nodejs:dynamic:Resource", "demo-credentials");
    expect(unwrap(credentials.inputs)).toMatchObject({ renewBeforeMs: 2160 * 3600 * 1000, osCa: { cert: "os-ca" }, kubernetesCa: { cert: "k8s-ca" }, etcdCaCert: "etcd-ca" });
  });

  test("the kubeconfig output resolves only after the health check answered", async () => {
    expect(await valueOf(cluster.kubeconfig)).toContain("kind: Config");
    expect(await pulumi.isSecret(cluster.kubeconfig)).toBe(true);
  });

  test("talosconfig: endpoints are the control-plane IPs (never the VIP), nodes are all IPs", async () => {
    const call = onlyCall(T.talosconfig);
    expect(unwrap(call.inputs)).toMatchObject({
      clusterName: "demo-cluster",
      endpoints: ["10.0.10.11", "10.0.10.12", "10.0.10.13"],
      nodes: ["10.0.10.11", "10.0.10.12", "10.0.10.13", "10.0.10.14"],
    });
    expect(await pulumi.isSecret(cluster.talosconfig)).toBe(true);
  });
});
