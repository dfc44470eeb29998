import * as YAML from "yaml";
import { TALOS_CILIUM_VALUES, ciliumReleaseArgs, ciliumValues, mergeValues } from "../components/cilium";
import { DEFAULT_CILIUM_VERSION, cniByTalos } from "../config/domain";
import { healthCheckPlan } from "../components/healthGate";
import { configPatches } from "../config/patches";
import { validateTalosPatch } from "../config/talosSchema/checkDocuments";
import { cniSwitchProblem } from "../resources/talosUpgrade";
import { validateConfig } from "../config/validate";
import { unwrap } from "../testkit/mocks";
import { base, node } from "./helpers/configCases";
import { PROXMOX_CONFIG, ProgramRun, runProgram, stackConfig, toPulumiConfig } from "./helpers/program";
import { transition } from "./helpers/transition";

const INSTALLER = "factory.talos.dev/metal-installer/abc:v1.13.9";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const specOf = (cilium: Record<string, unknown> = {}) =>
  validateConfig({ ...base(), cni: "cilium", cilium, nodes: [node(1), node(2), node(3), node(4, { role: "worker" })] }).spec;
const ciliumOf = (spec: ReturnType<typeof specOf>) => spec.talos.cni as Extract<typeof spec.talos.cni, { name: "cilium" }>;

/** The dev stack with Cilium, as Pulumi hands config to the program. */
const ciliumStack = (cilium?: Record<string, unknown>) => {
  const extra = toPulumiConfig({ cni: "cilium", ...(cilium ? { cilium } : {}) });
  return { ...stackConfig("dev"), ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`talos-proxmox:${k}`, v])), ...PROXMOX_CONFIG };
};

describe("cni: cilium in the Talos configs", () => {
  test("every node: no Talos CNI and no kube-proxy, valid for Talos 1.13; flannel's CNI is gone", () => {
    const spec = specOf();
    for (const n of spec.nodes) {
      const patches = configPatches(spec, n, INSTALLER);
      const docs = patches.flatMap((p) => YAML.parseAllDocuments(p).map((d) => d.toJS()));
      expect(docs).toContainEqual({ cluster: { network: { cni: { name: "none" } }, proxy: { disabled: true } } });
      expect(docs.some((d) => d.cluster?.network?.cni?.name === "flannel")).toBe(false);
      for (const patch of patches) expect(validateTalosPatch(patch).problems).toEqual([]);
    }
  });
});

describe("Cilium's chart and values", () => {
  test("pinned chart from its repository into kube-system, waited for", () => {
    expect(ciliumReleaseArgs(ciliumOf(specOf()))).toMatchObject({
      chart: "cilium",
      version: DEFAULT_CILIUM_VERSION,
      repositoryOpts: { repo: "https://helm.cilium.io/" },
      namespace: "kube-system",
      skipAwait: false,
    });
    expect(DEFAULT_CILIUM_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test("Talos's kube-proxy-less values: KubePrism on localhost:7445, Kubernetes IPAM, Talos's cgroup, no SYS_MODULE", () => {
    const values = ciliumValues(ciliumOf(specOf()));
    expect(values).toMatchObject({ kubeProxyReplacement: true, k8sServiceHost: "localhost", k8sServicePort: 7445, ipam: { mode: "kubernetes" } });
    expect(values).toMatchObject({ cgroup: { autoMount: { enabled: false }, hostRoot: "/sys/fs/cgroup" } });
    const caps = (values.securityContext as { capabilities: { ciliumAgent: string[] } }).capabilities.ciliumAgent;
    expect(caps).not.toContain("SYS_MODULE");
    expect(values.hubble).toEqual({ enabled: false, relay: { enabled: false }, ui: { enabled: false } });
  });

  test("hubble: true turns on Hubble, its relay and UI; the user's values merge over ours, objects key by key", () => {
    const values = ciliumValues(ciliumOf(specOf({ hubble: true, values: { operator: { replicas: 1 }, ipam: { operator: { clusterPoolIPv4PodCIDRList: ["10.42.0.0/16"] } } } })));
    expect(values.hubble).toEqual({ enabled: true, relay: { enabled: true }, ui: { enabled: true } });
    expect(values.operator).toEqual({ replicas: 1 });
    expect(values.ipam).toEqual({ mode: "kubernetes", operator: { clusterPoolIPv4PodCIDRList: ["10.42.0.0/16"] } });
    expect(TALOS_CILIUM_VALUES.ipam).toEqual({ mode: "kubernetes" }); // the defaults are not mutated
  });

  test("lists are replaced, not appended", () => {
    expect(mergeValues({ a: [1, 2], b: { c: 1 } }, { a: [3] })).toEqual({ a: [3], b: { c: 1 } });
  });
});

describe("the order with Cilium", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(ciliumStack());
  });
  const req = (type: string, name: string) => run.requests.get(`${type}::${name}`)!;

  test("Cilium is installed through a provider of its own on the health-gated kubeconfig", () => {
    const release = run.mocks.ofType(RELEASE);
    expect(release).toHaveLength(1);
    expect(release[0].provider).toContain("::cluster-k8s-cni::");
    const gate = req("pulumi:index:Stash", "cluster-health").urn;
    const system = req("pulumi:providers:kubernetes", "cluster-k8s-cni");
    expect(system.propertyDependencies.kubeconfig).toContain(req("pulumi-nodejs:dynamic:Resource", "cluster-credentials").urn);
    expect(system.propertyDependencies.kubeconfig).toContain(gate);
    // Replacing this provider would replace the Cilium release, the cluster's network (see kubernetesClusterIdentifier).
    expect(run.mocks.ofType("pulumi:providers:kubernetes").find((p) => p.name === "cluster-k8s-cni")!.inputs.clusterIdentifier).toBe("talos-proxmox:cluster");
  });

  test("the cluster's provider, and so NGINX and every workload on it, waits for the Cilium release", () => {
    const releaseUrn = req(RELEASE, "cluster-cilium").urn;
    expect(req("pulumi:providers:kubernetes", "cluster-k8s").propertyDependencies.kubeconfig).toContain(releaseUrn);
    expect(run.mocks.ofType("kubernetes:apps/v1:Deployment")[0].provider).toContain("::cluster-k8s::");
  });

  test("the health gate checks Talos and etcd only: no node is Ready before Cilium runs", () => {
    // The gate's hook is built with cniAfterGate = !cniByTalos(cni) (components/talosCluster.ts); tests/cniGate.test.ts runs it.
    expect(cniByTalos(specOf().talos.cni)).toBe(false);
    expect(cniByTalos(validateConfig(base()).spec.talos.cni)).toBe(true);
    const state = { bootstrap: "b", nodes: { a: { role: "controlplane" as const, ip: "10.0.10.11", config: "h" } } };
    expect(healthCheckPlan(undefined, state, true)).toMatchObject({ run: true, skipKubernetesChecks: true });
    const upgrade = unwrap(run.mocks.ofType("pulumi-nodejs:dynamic:Resource").find((r) => r.name === "cluster-upgrade")!.inputs) as { cni: string };
    expect(upgrade.cni).toBe("cilium");
  });
});

describe("Cilium after day one", () => {
  test("a new chart version is a Helm upgrade of the release, nothing else", async () => {
    const { steps } = await transition(ciliumStack(), ciliumStack({ version: "1.19.3" }));
    expect(steps.map((s) => [s.op, s.name, s.changed])).toEqual([["update", "cluster-cilium", ["version"]]]);
  });

  test("Hubble on is a values change of the release", async () => {
    const { steps } = await transition(ciliumStack(), ciliumStack({ hubble: true }));
    expect(steps.map((s) => s.name)).toEqual(["cluster-cilium"]);
    expect(steps[0].changed).toEqual(["values.hubble.enabled", "values.hubble.relay.enabled", "values.hubble.ui.enabled"]);
  });

  test("switching cni on a running cluster is refused by the check that preview runs", async () => {
    expect(cniSwitchProblem({ cni: "flannel" }, { cni: "cilium" })).toMatch(/switching a running cluster from flannel to cilium is refused/);
    expect(cniSwitchProblem({}, { cni: "cilium" })).toBeUndefined();
    expect(cniSwitchProblem({ cni: "cilium" }, { cni: "cilium" })).toBeUndefined();
  });
});
