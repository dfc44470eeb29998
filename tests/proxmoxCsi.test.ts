import { createHash } from "node:crypto";
import * as YAML from "yaml";
import { pluginConfig, proxmoxApiUrl, proxmoxCsiIdentity, proxmoxCsiValues, storageClassArgs, storageSummary, tokenSecretOf } from "../components/proxmoxCsi";
import { TalosProxmoxCluster } from "../components/talosProxmoxCluster";
import { topologyPatch } from "../config/patches";
import { ConfigError, validateConfig } from "../config/validate";
import { base, node } from "./helpers/configCases";
import { FAKE_PROXMOX_TOKEN_SECRET, isSecretWrapper, unwrap } from "../testkit/mocks";
import { PROXMOX_CONFIG, ProgramRun, runProgram, stackConfig } from "./helpers/program";

const ROLE = "proxmoxve:index/roleLegacy:RoleLegacy";
const USER = "proxmoxve:index/userLegacy:UserLegacy";
const ACL = "proxmoxve:index/acl:Acl";
const TOKEN = "proxmoxve:user/token:Token";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const SECRET = "kubernetes:core/v1:Secret";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const CLASS = "kubernetes:storage.k8s.io/v1:StorageClass";
const GUARD = "pulumi-nodejs:dynamic:Resource";
const MACHINE_CONFIG = "talos:machine/getConfiguration:getConfiguration";
const CSI = { datastore: "local-lvm", storageClass: "proxmox", default: true, fsType: "ext4" as const, reclaimPolicy: "Retain" as const, region: "homelab", version: "0.5.9" };

describe("the plugin's pieces (pure)", () => {
  test("the plugin's url is the API base with /api2/json, however the endpoint is written", () => {
    for (const endpoint of ["https://pve:8006/", "https://pve:8006", "https://pve:8006/api2/json", "https://pve:8006/api2/json/"]) {
      expect(proxmoxApiUrl(endpoint)).toBe("https://pve:8006/api2/json");
    }
  });

  test("the token's secret is what follows the last '=' of the provider's full token", () => {
    expect(tokenSecretOf("lab-csi@pve!csi=0b7d-uuid")).toBe("0b7d-uuid");
    expect(tokenSecretOf("we=ird@pve!csi=0b7d-uuid")).toBe("0b7d-uuid");
  });

  test("a token without its secret (imported: Proxmox returns it only on creation) is an error naming the way out, not an empty secret", () => {
    for (const value of [undefined, "", "lab-csi@pve!csi", "lab-csi@pve!csi="]) {
      expect(() => tokenSecretOf(value)).toThrow(/^storage\.proxmoxCsi: the state holds no secret of the plugin's Proxmox API token.*pulumi up --replace/);
    }
  });

  test("one role, user and token name per cluster; the user name as Proxmox writes it", () => {
    expect(proxmoxCsiIdentity("lab")).toEqual({ roleId: "csi-lab", userId: "lab-csi@pve", tokenName: "csi" });
    // Proxmox refuses role IDs beginning with PVE in any case: a cluster may be called so, its role never is.
    expect(proxmoxCsiIdentity("pve-lab").roleId).toBe("csi-pve-lab");
  });

  test("the node labels: the configured region, and the node's own Proxmox host as zone; none without the plugin", () => {
    const nodes = [node(1, { host: "pve1" }), node(2, { host: "pve2" }), node(3, { host: "pve3" })];
    const { spec } = validateConfig({ ...base(), nodes, storage: { proxmoxCsi: { datastore: "local-lvm", region: "homelab" } } });
    expect(spec.nodes.map((n) => YAML.parse(topologyPatch(spec, n)!) as unknown)).toEqual(
      ["pve1", "pve2", "pve3"].map((host) => ({ machine: { nodeLabels: { "topology.kubernetes.io/region": "homelab", "topology.kubernetes.io/zone": host } } })),
    );
    const without = validateConfig({ ...base(), nodes }).spec;
    expect(without.nodes.map((n) => topologyPatch(without, n))).toEqual([undefined, undefined, undefined]);
  });

  test("the plugin's config: one Proxmox cluster with the token and the nodes' region", () => {
    const config = pluginConfig(CSI, { url: "https://pve:8006/api2/json", insecure: true, tokenId: "lab-csi@pve!csi", tokenSecret: "0b7d-uuid" });
    expect(YAML.parse(config)).toEqual({ clusters: [{ url: "https://pve:8006/api2/json", insecure: true, token_id: "lab-csi@pve!csi", token_secret: "0b7d-uuid", region: "homelab" }] });
  });

  test("the storage output: the class, the driver, the datastore, whether it is the default", () => {
    expect(storageSummary({ ...CSI, storageClass: "fast", default: false })).toEqual({ storageClass: "fast", provisioner: "csi.proxmox.sinextra.dev", datastore: "local-lvm", default: false });
  });

  test("the StorageClass: the plugin's driver, the datastore and filesystem as parameters, bound where the pod runs", () => {
    expect(storageClassArgs({ ...CSI, fsType: "xfs", reclaimPolicy: "Delete", default: false })).toEqual({
      metadata: { name: "proxmox", annotations: undefined },
      provisioner: "csi.proxmox.sinextra.dev",
      parameters: { storage: "local-lvm", "csi.storage.k8s.io/fstype": "xfs" },
      reclaimPolicy: "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    });
    expect(storageClassArgs(CSI).metadata).toEqual({ name: "proxmox", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } });
  });

  test("the chart reads our Secret, and its controller (the one part holding the token) runs on control planes and restarts when the config changes", () => {
    expect(proxmoxCsiValues("abc")).toEqual({
      createNamespace: false,
      existingConfigSecret: "proxmox-csi-config",
      existingConfigSecretKey: "config.yaml",
      controller: { podAnnotations: { "talos-proxmox/config-sha256": "abc" } },
      nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
      tolerations: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
      storageClass: [],
    });
  });
});

/** The example stack over three Proxmox hosts with storage.proxmoxCsi. */
describe("program with Pulumi.storage.yaml (three hosts, persistent volumes)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram({ ...stackConfig("storage"), ...PROXMOX_CONFIG }, { stack: "storage" });
  });
  const one = (type: string) => {
    const found = run.mocks.ofType(type);
    expect(found).toHaveLength(1);
    return found[0];
  };
  const urn = (type: string) => run.requests.get(`${type}::${one(type).name}`)!.urn;
  const request = (type: string) => run.requests.get(`${type}::${one(type).name}`)!;

  test("a role with exactly the plugin's documented privileges, its user, an ACL at / and a token without privilege separation", () => {
    expect(unwrap(one(ROLE).inputs)).toEqual({ roleId: "csi-lab", privileges: ["Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.Audit", "VM.Audit", "VM.Config.Disk"] });
    expect(unwrap(one(USER).inputs)).toMatchObject({ userId: "lab-csi@pve" });
    expect(unwrap(one(ACL).inputs)).toEqual({ path: "/", roleId: "csi-lab", userId: "lab-csi@pve", propagate: true });
    expect(unwrap(one(TOKEN).inputs)).toMatchObject({ userId: "lab-csi@pve", tokenName: "csi", privilegesSeparation: false });
  });

  test("the token is a secret from the provider's output to the Secret the plugin reads, and nowhere plain", () => {
    expect(request(TOKEN).additionalSecretOutputs).toContain("value");
    const stringData = one(SECRET).inputs.stringData;
    expect(isSecretWrapper(stringData)).toBe(true);
    const config = YAML.parse((unwrap(stringData) as Record<string, string>)["config.yaml"]) as unknown;
    expect(config).toEqual({ clusters: [{ url: "https://pve.example.test:8006/api2/json", insecure: false, token_id: "lab-csi@pve!csi", token_secret: FAKE_PROXMOX_TOKEN_SECRET, region: "homelab" }] });
    const plain = run.mocks.registrations.filter((r) => JSON.stringify(r.inputs, (_k, v: unknown) => (isSecretWrapper(v) ? "<secret>" : v)).includes(FAKE_PROXMOX_TOKEN_SECRET));
    expect(plain.map((r) => r.name)).toEqual([]);
    expect(JSON.stringify(run.values)).not.toContain(FAKE_PROXMOX_TOKEN_SECRET);
  });

  test("the pinned chart from its OCI registry, in a privileged namespace of its own", () => {
    expect(unwrap(one(RELEASE).inputs)).toMatchObject({
      chart: "oci://ghcr.io/sergelogvinov/charts/proxmox-csi-plugin",
      version: "0.5.9",
      namespace: "csi-proxmox",
      createNamespace: false,
      values: { existingConfigSecret: "proxmox-csi-config", storageClass: [] },
    });
    expect(unwrap(one(NAMESPACE).inputs)).toMatchObject({ metadata: { name: "csi-proxmox", labels: { "pod-security.kubernetes.io/enforce": "privileged" } } });
  });

  test("the controller's pod annotation is the sha256 of the Secret's config, so a new token restarts it", () => {
    const config = (unwrap(one(SECRET).inputs.stringData) as Record<string, string>)["config.yaml"];
    const values = unwrap(one(RELEASE).inputs.values) as { controller: { podAnnotations: Record<string, string> } };
    expect(values.controller.podAnnotations["talos-proxmox/config-sha256"]).toBe(createHash("sha256").update(config).digest("hex"));
  });

  test("in dependency order: role, user, ACL, token, Secret, release, StorageClass, then the removal guard", () => {
    const dependsOn = (type: string, on: string) => {
      const r = request(type);
      return [...r.dependencies, ...Object.values(r.propertyDependencies).flat()].includes(urn(on));
    };
    expect(dependsOn(ACL, ROLE) && dependsOn(ACL, USER)).toBe(true);
    expect(dependsOn(TOKEN, USER) && dependsOn(TOKEN, ACL)).toBe(true);
    expect(dependsOn(SECRET, TOKEN)).toBe(true);
    expect(dependsOn(RELEASE, SECRET)).toBe(true);
    expect(dependsOn(CLASS, RELEASE)).toBe(true);
    const guard = run.mocks.ofType(GUARD).find((r) => r.name === "cluster-csi-volumes")!;
    const guardRequest = run.requests.get(`${GUARD}::${guard.name}`)!;
    expect(guardRequest.dependencies).toEqual(expect.arrayContaining([urn(RELEASE), urn(CLASS)]));
    expect(guardRequest.deletedWith).toMatch(/talos:machine\/secrets:Secrets::cluster-secrets$/);
    expect(unwrap(guard.inputs)).toMatchObject({ key: "storage.proxmoxCsi", driver: "csi.proxmox.sinextra.dev" });
  });

  test("the Kubernetes objects come after the health gate: through the cluster's provider", () => {
    for (const type of [NAMESPACE, SECRET, RELEASE, CLASS]) expect(request(type).provider).toMatch(/pulumi:providers:kubernetes::cluster-k8s::/);
  });

  test("every node carries the region and its own Proxmox host as zone", () => {
    const labelsOf = (node: string) => {
      const call = run.mocks.callsOf(MACHINE_CONFIG).find((c) => (unwrap(c.inputs) as { configPatches: string[] }).configPatches.some((p) => p.includes(`hostname: "${node}"`)))!;
      const docs = (unwrap(call.inputs) as { configPatches: string[] }).configPatches.flatMap((p) => YAML.parseAllDocuments(p).map((d) => d.toJS() as { machine?: { nodeLabels?: Record<string, string> } }));
      return Object.assign({}, ...docs.map((d) => d.machine?.nodeLabels ?? {})) as Record<string, string>;
    };
    const hosts = { "cp-1": "pve1", "cp-2": "pve2", "cp-3": "pve3", "worker-1": "pve1", "worker-2": "pve2", "worker-3": "pve3" };
    for (const [node, host] of Object.entries(hosts)) {
      expect(labelsOf(node)).toEqual({ "topology.kubernetes.io/region": "homelab", "topology.kubernetes.io/zone": host });
    }
  });

  test("the storage output names the class, the driver and the datastore", () => {
    expect(run.values.storage).toEqual({ storageClass: "proxmox", provisioner: "csi.proxmox.sinextra.dev", datastore: "local-lvm", default: true });
  });
});

describe("program without storage (Pulumi.dev.yaml)", () => {
  test("registers nothing of the plugin, and no node carries topology labels", async () => {
    const run = await runProgram({ ...stackConfig("dev"), ...PROXMOX_CONFIG });
    for (const type of [ROLE, USER, ACL, TOKEN, RELEASE, CLASS, SECRET]) expect(run.mocks.ofType(type)).toEqual([]);
    expect(run.mocks.ofType(GUARD).map((r) => r.name)).not.toContain("cluster-csi-volumes");
    const patches = run.mocks.callsOf(MACHINE_CONFIG).flatMap((c) => (unwrap(c.inputs) as { configPatches: string[] }).configPatches);
    expect(patches.join("\n")).not.toContain("nodeLabels");
    expect(run.values.storage).toBeUndefined();
  });
});

describe("the component", () => {
  test("refuses storage.proxmoxCsi without the Proxmox connection, before it registers anything", async () => {
    const nodes = [1, 2, 3].map((i) => ({ name: `cp-${i}`, ip: `10.0.20.1${i}`, role: "controlplane" as const }));
    let refusal: unknown;
    const program = () => {
      try {
        new TalosProxmoxCluster("lab", { clusterName: "lab", nodes, vip: "10.0.20.10", storage: { proxmoxCsi: { datastore: "local-lvm" } } });
      } catch (error) {
        refusal = error;
      }
      return {};
    };
    const run = await runProgram({}, { program });
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as ConfigError).problems).toEqual([expect.stringMatching(/^storage\.proxmoxCsi: the Proxmox CSI plugin needs the Proxmox API: pass `proxmox`/)]);
    expect(run.mocks.registrations).toEqual([]);
  });
});
