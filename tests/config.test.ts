import { validateConfig } from "../config/validate";
import { deriveMac, vmIdOffset } from "../config/network";
import { DEFAULT_TALOS_VERSION } from "../config/domain";
import { REJECTED_CONFIGS, base, node, problemsOf } from "./helpers/configCases";


describe("validateConfig accepts the walk-through and applies defaults in code", () => {
  const { spec, warnings } = validateConfig(base());

  test("cluster-wide defaults", () => {
    expect(spec.talosVersion).toBe(DEFAULT_TALOS_VERSION);
    expect(spec.endpoint).toBe("https://10.0.10.10:6443");
    expect(spec.proxmox).toEqual({
      defaultHost: "pve",
      isoDatastoreShared: false,
      isoDatastore: "local",
      diskDatastore: "local-lvm",
      bridge: "vmbr0",
      vlanId: undefined,
      cpuType: "host",
    });
    expect(spec.image).toEqual({
      kernelArgs: ["net.ifnames=0"],
      extensions: ["siderolabs/qemu-guest-agent"],
      guestAgent: true,
    });
    expect(spec.talos).toMatchObject({ allowSchedulingOnControlPlanes: true, cni: { name: "flannel" } });
    expect(spec.workload).toEqual({ enabled: true, replicas: 2, image: "nginx:1.28.0", nodePort: undefined });
    expect(warnings).toEqual([]);
  });

  test("node defaults: host, size and a derived MAC; no VM ID unless configured", () => {
    expect(spec.nodes[1]).toEqual({
      name: "talos-demo-02",
      ip: "10.0.10.12",
      role: "controlplane",
      host: "pve",
      vmId: undefined,
      mac: deriveMac("demo-cluster", "talos-demo-02"),
      cores: 4,
      memory: 8192,
      diskSize: 32,
      extraDisks: [],
      pci: [],
      patches: [],
    });
  });

  test("per-node values override cluster-wide ones; config text is coerced", () => {
    const raw = {
      ...base(),
      cores: "8",
      memory: "16384",
      vmIdBase: "1011",
      workloadEnabled: "false",
      nodes: [node(1, { cores: 2, mac: "02:aa:bb:cc:dd:ee", host: "pve2", vmId: 900 }), node(2), node(3)],
    };
    const { spec: s } = validateConfig(raw);
    expect(s.nodes.map((n) => [n.cores, n.memory, n.vmId, n.host])).toEqual([
      [2, 16384, 900, "pve2"],
      [8, 16384, 1011 + vmIdOffset("talos-demo-02", 1000), "pve"],
      [8, 16384, 1011 + vmIdOffset("talos-demo-03", 1000), "pve"],
    ]);
    expect(s.nodes[0].mac).toBe("02:AA:BB:CC:DD:EE");
    expect(s.workload.enabled).toBe(false);
  });

  test("without a VIP the endpoint is the first control plane, with a warning", () => {
    const { vip: _vip, ...noVip } = base();
    const result = validateConfig(noVip);
    expect(result.spec.endpoint).toBe("https://10.0.10.11:6443");
    expect(result.warnings).toEqual([expect.stringMatching(/^vip: not set, so the Kubernetes endpoint is talos-demo-01 alone/)]);
    expect(validateConfig({ ...noVip, nodes: [node(1)] }).warnings).toEqual([]);
  });

  // etcd's majority of two members is two (etcd docs, op-guide/runtime-configuration, v3.2 on), and
  // our etcd gate refuses to take one of two members down (engines/gates.ts gateControlPlane).
  test("two control planes are refused: no fault tolerance, and every rollout would be refused", () => {
    const problems = problemsOf({ ...base(), nodes: [node(1), node(2), node(4, { role: "worker" })] });
    expect(problems).toEqual([
      expect.stringMatching(/^nodes: 2 control planes \(talos-demo-01, talos-demo-02\) are refused: etcd needs both .*no failure.*every upgrade, reboot and removal.*refuse.*use 1, or 3 or more/),
    ]);
  });

  test("another even number of control planes (4 or more) is a warning, not an error", () => {
    const { warnings: w } = validateConfig({ ...base(), nodes: [node(1), node(2), node(3), node(4)] });
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^nodes: 4 control planes is an even number.*odd number/);
  });

  test("a Kubernetes version is kept without a leading v", () => {
    expect(validateConfig({ ...base(), kubernetesVersion: "v1.34.1" }).spec.kubernetesVersion).toBe("1.34.1");
    expect(validateConfig({ ...base(), kubernetesVersion: "1.34.1" }).spec.kubernetesVersion).toBe("1.34.1");
  });

  test("custom CNI carries its URLs", () => {
    const urls = ["https://example.test/cni/v1.2.3/install.yaml"];
    expect(validateConfig({ ...base(), cni: "custom", cniUrls: urls }).spec.talos.cni).toEqual({
      name: "custom",
      urls,
    });
  });
});

describe("validateConfig rejects bad input, naming the key and what is valid", () => {
  test.each(REJECTED_CONFIGS)("%s", (_label, raw, message) => {
    const problems = problemsOf(raw);
    expect(problems).toContainEqual(expect.stringMatching(message));
  });

  test("reports every problem at once", () => {
    const problems = problemsOf({
      clusterName: "Demo",
      vip: "10.0.10.11",
      nodes: [node(1, { ip: "x" }), node(2, { role: "boss" }), node(3, { name: "talos-demo-01" })],
    });
    expect(problems).toEqual([
      expect.stringMatching(/^clusterName: /),
      expect.stringMatching(/^nodes\[1\]\.role: /),
      expect.stringMatching(/^nodes\[0\]\.ip: /),
      expect.stringMatching(/^nodes\[2\]\.name: talos-demo-01 is already used/),
    ]);
  });

  test("the error message lists every problem", () => {
    expect(() => validateConfig({ nodes: [] })).toThrow(
      /Invalid stack configuration \(namespace talos-proxmox\), 2 problem\(s\):\n {2}- clusterName: .*\n {2}- nodes: /,
    );
  });
});

describe("storage.proxmoxCsi", () => {
  test("absent: no volumes", () => {
    expect(validateConfig(base()).spec.storage).toEqual({});
  });

  test("only the datastore is required; the rest has the defaults of docs/configuration.md", () => {
    expect(validateConfig({ ...base(), storage: { proxmoxCsi: { datastore: "local-lvm" } } }).spec.storage.proxmoxCsi).toEqual({
      datastore: "local-lvm",
      storageClass: "proxmox",
      default: true,
      fsType: "ext4",
      reclaimPolicy: "Retain",
      region: "proxmox",
      version: "0.5.9",
    });
  });

  test("a VM ID of 9999 is fine without the plugin", () => {
    expect(() => validateConfig({ ...base(), nodes: [node(1), node(2), node(3, { vmId: 9999 })] })).not.toThrow();
  });
});
