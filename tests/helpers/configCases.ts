/** Valid walk-through config (raw, as parsed from a stack file) and the inputs it must reject. */

export const node = (i: number, extra: Record<string, unknown> = {}) => ({
  name: `talos-demo-0${i}`,
  ip: `10.0.10.1${i}`,
  role: "controlplane",
  ...extra,
});

export const base = (): Record<string, unknown> => ({
  clusterName: "demo-cluster",
  vip: "10.0.10.10",
  nodes: [node(1), node(2), node(3)],
});

/** [what, raw config, the problem it must produce (key first)]. */
export const REJECTED_CONFIGS: [string, Record<string, unknown>, RegExp][] = [
  ["missing clusterName", { ...base(), clusterName: undefined }, /^clusterName: is required: a DNS label/],
  ["no nodes", { ...base(), nodes: [] }, /^nodes: must be a non-empty list, got an empty list: one entry per VM/],
  ["nodes missing", { ...base(), nodes: undefined }, /^nodes: is required: one entry per VM/],
  [
    "no control plane",
    { ...base(), nodes: [node(1, { role: "worker" })] },
    /^nodes: at least one node needs role controlplane/,
  ],
  ["unknown role", { ...base(), nodes: [node(1, { role: "master" })] }, /^nodes\[0\]\.role: must be controlplane or worker, got "master"/],
  ["name not a DNS label", { ...base(), nodes: [node(1, { name: "Talos_01" })] }, /^nodes\[0\]\.name: must be a DNS label .*got "Talos_01"/],
  ["duplicate names", { ...base(), nodes: [node(1), node(2, { name: "talos-demo-01" })] }, /^nodes\[1\]\.name: talos-demo-01 is already used by nodes\[0\]/],
  ["duplicate IPs", { ...base(), nodes: [node(1), node(2, { ip: "10.0.10.11" })] }, /^nodes\[1\]\.ip: 10\.0\.10\.11 is already used by nodes\[0\] \(talos-demo-01\)/],
  ["duplicate VM IDs", { ...base(), nodes: [node(1, { vmId: 500 }), node(2, { vmId: 500 })] }, /^nodes\[1\]\.vmId: 500 is already used by nodes\[0\]/],
  [
    "duplicate MACs",
    { ...base(), nodes: [node(1, { mac: "02:00:00:00:00:01" }), node(2, { mac: "02:00:00:00:00:01" })] },
    /^nodes\[1\]\.mac: 02:00:00:00:00:01 is already used by nodes\[0\]/,
  ],
  ["invalid IPv4", { ...base(), nodes: [node(1, { ip: "10.0.10.256" })] }, /^nodes\[0\]\.ip: must be an IPv4 host address such as 10\.0\.10\.11, got "10\.0\.10\.256"/],
  ["invalid MAC", { ...base(), nodes: [node(1, { mac: "02:00:00:00:00" })] }, /^nodes\[0\]\.mac: must be a MAC address such as/],
  ["multicast MAC", { ...base(), nodes: [node(1, { mac: "01:00:5E:00:00:01" })] }, /^nodes\[0\]\.mac: 01:00:5E:00:00:01 is a multicast address/],
  ["VIP equal to a node IP", { ...base(), vip: "10.0.10.12" }, /^vip: 10\.0\.10\.12 is also nodes\[1\]\.ip \(talos-demo-02\)/],
  ["zero cores", { ...base(), cores: 0 }, /^cores: must be a whole number of CPU cores above 0, got number 0/],
  ["negative memory on a node", { ...base(), nodes: [node(1, { memory: -1 })] }, /^nodes\[0\]\.memory: must be memory in MiB, a whole number above 0, got number -1/],
  ["zero disk", { ...base(), diskSize: "0" }, /^diskSize: must be disk size in GiB, a whole number above 0, got number 0/],
  ["misspelt node key", { ...base(), nodes: [node(1, { memroy: 4 })] }, /^nodes\[0\]\.memroy: unknown key; did you mean memory\? Valid keys: name, ip, role/],
  ["unknown node key", { ...base(), nodes: [node(1, { cpus: 4 })] }, /^nodes\[0\]\.cpus: unknown key\. Valid keys: name, ip, role, host, vmId, mac, cores, memory, diskSize$/],
  ["talosVersion without v", { ...base(), talosVersion: "1.13.9" }, /^talosVersion: must be a Talos version of the form v1\.13\.9, got "1\.13\.9"/],
  ["unknown top-level key", { ...base(), clustername: "x" }, /^clustername: unknown key; did you mean clusterName\?/],
  ["qemu64 CPU", { ...base(), cpuType: "qemu64" }, /^cpuType: must be one of host, x86-64-v2, .*Talos needs x86-64-v2/],
  ["custom CNI without URLs", { ...base(), cni: "custom" }, /^cniUrls: cni is custom, so list the CNI manifest URLs/],
  ["no CNI with the workload on", { ...base(), cni: "none" }, /^cni: none leaves pods without a network/],
  ["unpinned NGINX image", { ...base(), nginxImage: "nginx" }, /^nginxImage: must be an image reference pinned to a tag or digest/],
  ["NodePort out of range", { ...base(), nginxNodePort: 80 }, /^nginxNodePort: must be a NodePort from 30000 to 32767, got number 80/],
];
