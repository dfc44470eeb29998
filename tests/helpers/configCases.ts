/** Valid walk-through config (raw, as parsed from a stack file) and the inputs it must reject. */
import { ConfigError, validateConfig } from "../../config/validate";
import type { NodeSpec } from "../../config/domain";

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

/** The five-node lab of the transition tests: three control planes and two workers in 10.0.20.0/24. */
export const LAB_NODES = [
  { name: "cp-1", ip: "10.0.20.11", role: "controlplane" },
  { name: "cp-2", ip: "10.0.20.12", role: "controlplane" },
  { name: "cp-3", ip: "10.0.20.13", role: "controlplane" },
  { name: "worker-1", ip: "10.0.20.21", role: "worker" },
  { name: "worker-2", ip: "10.0.20.22", role: "worker" },
];

/** A valid static network for base()'s nodes (10.0.10.11-13, VIP 10.0.10.10). */
export const STATIC = { addressing: "static", cidr: "10.0.10.0/24", gateway: "10.0.10.1", nameservers: ["10.0.10.1"] };

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
  ["unknown node key", { ...base(), nodes: [node(1, { cpus: 4 })] }, /^nodes\[0\]\.cpus: unknown key\. Valid keys: name, ip, role, host, vmId, mac, cores, memory, diskSize, extraDisks, pci, patches$/],
  ["talosVersion without v", { ...base(), talosVersion: "1.13.9" }, /^talosVersion: must be a Talos version of the form v1\.13\.9, got "1\.13\.9"/],
  ["unknown top-level key", { ...base(), clustername: "x" }, /^clustername: unknown key; did you mean clusterName\?/],
  ["qemu64 CPU", { ...base(), cpuType: "qemu64" }, /^cpuType: must be one of host, x86-64-v2, .*Talos needs x86-64-v2/],
  ["custom CNI without URLs", { ...base(), cni: "custom" }, /^cniUrls: cni is custom, so list the CNI manifest URLs/],
  ["no CNI with the workload on", { ...base(), cni: "none" }, /^cni: none leaves pods without a network/],
  ["unpinned NGINX image", { ...base(), nginxImage: "nginx" }, /^nginxImage: must be an image reference pinned to a tag or digest/],
  ["NodePort out of range", { ...base(), nginxNodePort: 80 }, /^nginxNodePort: must be a NodePort from 30000 to 32767, got number 80/],
  ["VLAN ID above 4094", { ...base(), vlanId: 4095 }, /^vlanId: must be a VLAN ID from 1 to 4094, got number 4095/],
  ["VLAN ID zero", { ...base(), vlanId: "0" }, /^vlanId: must be a VLAN ID from 1 to 4094, got number 0/],
  ["VM ID below 100", { ...base(), nodes: [node(1, { vmId: 99 })] }, /^nodes\[0\]\.vmId: must be a Proxmox VM ID from 100 to 999999999, got number 99/],
  ["vmIdBase with no room for 1000 IDs", { ...base(), vmIdBase: 999999500 }, /^vmIdBase: must be at most 999999000/],
  ["vmIdBase not a number", { ...base(), vmIdBase: "ten" }, /^vmIdBase: must be a Proxmox VM ID from 100 to 999999999, got "ten"/],
  ["empty bridge", { ...base(), bridge: "  " }, /^bridge: must be a Proxmox bridge name, e\.g\. vmbr0/],
  ["empty disk datastore", { ...base(), diskDatastore: "" }, /^diskDatastore: must be a Proxmox datastore name for VM disks/],
  ["isoDatastoreShared not a boolean", { ...base(), isoDatastoreShared: "sometimes" }, /^isoDatastoreShared: must be true or false/],
  ["workloadEnabled not a boolean", { ...base(), workloadEnabled: "yes" }, /^workloadEnabled: must be true or false \(deploy the sample NGINX app\), got "yes"/],
  ["Kubernetes version malformed", { ...base(), kubernetesVersion: "1.34" }, /^kubernetesVersion: must be a Kubernetes version of the form 1\.34\.1, got "1\.34"/],
  ["Kubernetes version the Talos release does not support", { ...base(), kubernetesVersion: "1.29.3" }, /^kubernetesVersion: 1\.29\.3 is not supported by Talos v1\.13\.9; use 1\.31\.x to 1\.36\.x/],
  ["Talos version too old for the config contract", { ...base(), talosVersion: "v1.11.5" }, /^talosVersion: v1\.11\.5 is not supported; use a v1\.12\.x or v1\.13\.x release/],
  ["health timeout not a Go duration", { ...base(), healthTimeout: "ten minutes" }, /^healthTimeout: must be a Go duration above zero such as 10m or 1h30m/],
  ["health timeout of nothing", { ...base(), healthTimeout: "0m" }, /^healthTimeout: must be a Go duration above zero such as 10m or 1h30m/],
  ["credential renewal not a Go duration", { ...base(), credentialRenewal: "90 days" }, /^credentialRenewal: must be a Go duration such as 2160h \(90 days\)/],
  ["credential renewal of a year or more", { ...base(), credentialRenewal: "8760h" }, /^credentialRenewal: must be above 0 and under 8760h \(the client certificates are valid one year\), such as 2160h \(90 days\); got "8760h"/],
  ["credential renewal of nothing", { ...base(), credentialRenewal: "0s" }, /^credentialRenewal: must be above 0 and under 8760h/],
  ["CNI URL over plain http", { ...base(), cni: "custom", cniUrls: ["http://example.test/cni.yaml"] }, /^cniUrls\[0\]: must be an https:\/\/ manifest URL/],
  ["CNI URLs without cni custom", { ...base(), cniUrls: ["https://example.test/cni.yaml"] }, /^cniUrls: only used with cni: custom/],
  ["CNI URLs not a list", { ...base(), cni: "custom", cniUrls: "https://example.test/cni.yaml" }, /^cniUrls: must be a list of https:\/\/ manifest URLs/],
  ["unknown CNI", { ...base(), cni: "calico" }, /^cni: must be flannel, cilium, custom, none, got "calico"/],
  ["zero NGINX replicas", { ...base(), nginxReplicas: 0 }, /^nginxReplicas: must be a whole number of replicas above 0, got number 0/],
  ["fractional cores", { ...base(), cores: 2.5 }, /^cores: must be a whole number of CPU cores above 0, got number 2\.5/],
  ["memory as words", { ...base(), memory: "lots" }, /^memory: must be memory in MiB, a whole number above 0, got "lots"/],
  ["extensions not a list", { ...base(), extensions: "siderolabs/qemu-guest-agent" }, /^extensions: must be a list of Talos system extensions/],
  ["empty kernel argument", { ...base(), kernelArgs: [""] }, /^kernelArgs\[0\]: must be kernel arguments such as console=ttyS0/],
  ["Proxmox node not a DNS label", { ...base(), proxmoxNode: "PVE_1" }, /^proxmoxNode: must be a DNS label/],
  ["node host not a DNS label", { ...base(), nodes: [node(1, { host: "pve 2" })] }, /^nodes\[0\]\.host: must be a DNS label/],
  ["cluster name longer than 63 characters", { ...base(), clusterName: "a".repeat(64) }, /^clusterName: must be a DNS label .*at most 63 characters/],
  ["loopback node IP", { ...base(), nodes: [node(1, { ip: "127.0.0.5" })] }, /^nodes\[0\]\.ip: must be an IPv4 host address such as 10\.0\.10\.11, got "127\.0\.0\.5"/],
  ["multicast VIP", { ...base(), vip: "224.0.0.1" }, /^vip: must be an IPv4 host address such as 10\.0\.10\.10, got "224\.0\.0\.1"/],
  ["node entry not an object", { ...base(), nodes: ["talos-demo-01"] }, /^nodes\[0\]: must be an object with keys name, ip, role/],
  ["nodes not a list", { ...base(), nodes: "talos-demo-01" }, /^nodes: must be a non-empty list, got "talos-demo-01"/],
  [
    "an explicit VM ID equal to another node's derived one",
    { ...base(), vmIdBase: 1000, nodes: [node(1), node(2, { vmId: 1129 })] },
    /^nodes\[1\]\.vmId: 1129 is already used by nodes\[0\] \(talos-demo-01\); each node needs its own vmId \(a derived one/,
  ],
  ["patch with an unknown field", { ...base(), patches: ["machine:\n  kubelet:\n    extraMount: []\n"] }, /^patches\[0\]: document 0, machine\.kubelet\.extraMount: unknown key; did you mean extraMounts\?/],
  ["unreadable patch file", { ...base(), worker: { patches: ["@examples/missing.yaml"] } }, /^worker\.patches\[0\]: cannot read examples\/missing\.yaml \(ENOENT\)/],
  ["node patch of the wrong type", { ...base(), nodes: [node(1, { patches: ["machine:\n  install:\n    wipe: maybe\n"] })] }, /^nodes\[0\]\.patches\[0\]: document 0, machine\.install\.wipe: must be true or false, got "maybe"/],
  ["patch that is no list", { ...base(), patches: "machine: {}" }, /^patches: must be a list of Talos patches/],
  ["unknown role key", { ...base(), controlPlane: { cpus: 2 } }, /^controlPlane\.cpus: unknown key\. Valid keys: cores, memory, diskSize, extraDisks, patches$/],
  ["nameserver not an address", { ...base(), network: { nameservers: ["dns.example.com"] } }, /^network\.nameservers\[0\]: must be an IP address such as 1\.1\.1\.1/],
  ["time server not a host", { ...base(), network: { timeServers: ["not a host"] } }, /^network\.timeServers\[0\]: must be a host name such as time\.cloudflare\.com or an IP address, got "not a host"/],
  ["unknown network key", { ...base(), network: { dns: ["1.1.1.1"] } }, /^network\.dns: unknown key\. Valid keys: addressing, cidr, gateway, nameservers, timeServers$/],
  ["extra disk without size", { ...base(), nodes: [node(1, { extraDisks: [{ datastore: "ssd" }] })] }, /^nodes\[0\]\.extraDisks\[0\]\.size: is required: disk size in GiB/],
  ["PCI device with neither id nor mapping", { ...base(), nodes: [node(1, { pci: [{ pcie: true }] })] }, /^nodes\[0\]\.pci\[0\]: give exactly one of id .* got neither/],
  ["PCI device with both id and mapping", { ...base(), nodes: [node(1, { pci: [{ id: "0000:01:00.0", mapping: "gpu" }] })] }, /^nodes\[0\]\.pci\[0\]: give exactly one of id .* got both/],
  ["malformed PCI id", { ...base(), nodes: [node(1, { pci: [{ id: "gpu0" }] })] }, /^nodes\[0\]\.pci\[0\]\.id: must be a host PCI device ID such as 0000:01:00\.0/],
  ["unknown PCI key", { ...base(), nodes: [node(1, { pci: [{ mapping: "gpu", primary: true }] })] }, /^nodes\[0\]\.pci\[0\]\.primary: unknown key\. Valid keys: id, mapping, pcie, rombar, xvga$/],
  ["extra manifest from a branch", { ...base(), extraManifests: ["https://github.com/org/repo/raw/main/deploy.yaml"] }, /^extraManifests\[0\]: .* follows a branch or "latest"; use the URL of a release tag/],
  ["extra manifest not https", { ...base(), extraManifests: ["http://example.com/x.yaml"] }, /^extraManifests\[0\]: must be an https:\/\/ manifest URL/],
  [
    "DNS servers both as network.nameservers and in a patch",
    { ...base(), network: { nameservers: ["1.1.1.1"] }, patches: ["machine:\n  network:\n    nameservers: [9.9.9.9]\n"] },
    /^nodes\[0\] \(talos-demo-01\): merged config: machine\.network\.nameservers is set next to a ResolverConfig document/,
  ],
  ["Cilium chart version not X.Y.Z", { ...base(), cni: "cilium", cilium: { version: "v1.19" } }, /^cilium\.version: must be a Cilium chart version such as 1\.19\.2, got "v1\.19"/],
  ["Cilium values not an object", { ...base(), cni: "cilium", cilium: { values: ["ipam"] } }, /^cilium\.values: must be an object of Helm values/],
  ["unknown Cilium key", { ...base(), cni: "cilium", cilium: { hubbleUi: true } }, /^cilium\.hubbleUi: unknown key; did you mean hubble\? Valid keys: version, hubble, values$/],
  ["Cilium settings without cni: cilium", { ...base(), cilium: { hubble: true } }, /^cilium: only used with cni: cilium \(cni is flannel\)/],
  ["unknown addressing mode", { ...base(), network: { addressing: "manual" } }, /^network\.addressing: must be dhcp \(addresses from DHCP reservations\) or static .*got "manual"/],
  ["static without cidr", { ...base(), network: { addressing: "static", gateway: "10.0.10.1", nameservers: ["10.0.10.1"] } }, /^network\.cidr: is required with addressing static: an IPv4 network such as 10\.0\.10\.0\/24/],
  ["static without gateway", { ...base(), network: { ...STATIC, gateway: undefined } }, /^network\.gateway: is required with addressing static: the default gateway/],
  ["static without nameservers", { ...base(), network: { ...STATIC, nameservers: [] } }, /^network\.nameservers: is required with addressing static/],
  ["cidr with host bits set", { ...base(), network: { ...STATIC, cidr: "10.0.10.5/24" } }, /^network\.cidr: must be an IPv4 network such as 10\.0\.10\.0\/24 \(host bits zero, prefix 1-30\), got "10\.0\.10\.5\/24"/],
  ["cidr without prefix", { ...base(), network: { ...STATIC, cidr: "10.0.10.0" } }, /^network\.cidr: must be an IPv4 network such as 10\.0\.10\.0\/24/],
  ["cidr /31 (no room for hosts)", { ...base(), network: { ...STATIC, cidr: "10.0.10.10/31" } }, /^network\.cidr: must be an IPv4 network .*prefix 1-30/],
  ["node IP outside cidr", { ...base(), nodes: [node(1), node(2, { ip: "10.0.11.12" }), node(3)], network: STATIC }, /^nodes\[1\]\.ip: 10\.0\.11\.12 is outside network\.cidr 10\.0\.10\.0\/24; use a host address inside/],
  ["node IP is the network address", { ...base(), nodes: [node(1, { ip: "10.0.10.0" })], network: STATIC }, /^nodes\[0\]\.ip: 10\.0\.10\.0 is the network address of 10\.0\.10\.0\/24/],
  ["node IP is the broadcast address", { ...base(), nodes: [node(1, { ip: "10.0.10.255" })], network: STATIC }, /^nodes\[0\]\.ip: 10\.0\.10\.255 is the broadcast address of 10\.0\.10\.0\/24/],
  ["VIP outside cidr", { ...base(), vip: "10.0.20.10", network: STATIC }, /^vip: 10\.0\.20\.10 is outside network\.cidr 10\.0\.10\.0\/24/],
  ["gateway outside cidr", { ...base(), network: { ...STATIC, gateway: "10.0.0.1" } }, /^network\.gateway: 10\.0\.0\.1 is outside network\.cidr 10\.0\.10\.0\/24/],
  ["gateway is a node's IP", { ...base(), network: { ...STATIC, gateway: "10.0.10.12" } }, /^network\.gateway: 10\.0\.10\.12 is also nodes\[1\]\.ip \(talos-demo-02\); the gateway is your router's address/],
  ["gateway is the VIP", { ...base(), network: { ...STATIC, gateway: "10.0.10.10" } }, /^network\.gateway: 10\.0\.10\.10 is also the vip/],
  ["gateway not an address", { ...base(), network: { ...STATIC, gateway: "router" } }, /^network\.gateway: must be an IPv4 host address such as 10\.0\.10\.1, got "router"/],
  ["gateway with dhcp", { ...base(), network: { gateway: "10.0.10.1" } }, /^network\.gateway: only used with network\.addressing static \(addressing is dhcp\); remove it, or set addressing: static/],
  ["control plane outside the VIP's /24 with dhcp", { ...base(), nodes: [node(1), node(2, { ip: "10.0.11.12" }), node(3)] }, /^nodes\[1\]\.ip: 10\.0\.11\.12 is outside 10\.0\.10\.0\/24, the VIP's subnet \(a \/24 is assumed with DHCP\).*set network\.cidr to your subnet if it is larger$/],
  ["control plane outside a declared dhcp cidr", { ...base(), vip: "10.0.8.10", nodes: [node(1), node(2, { ip: "10.0.12.12" }), node(3)], network: { cidr: "10.0.8.0/22" } }, /^nodes\[1\]\.ip: 10\.0\.12\.12 is outside network\.cidr 10\.0\.8\.0\/22/],
  ["gateway with dhcp", { ...base(), network: { addressing: "dhcp", gateway: "10.0.10.1" } }, /^network\.gateway: only used with network\.addressing static/],
  ["CSI datastore with a character Proxmox refuses", { ...base(), storage: { proxmoxCsi: { datastore: "local lvm" } } }, /^storage\.proxmoxCsi\.datastore: must be the Proxmox datastore for volume disks, e\.g\. local-lvm, got "local lvm"/],
  ["CSI datastore of one character", { ...base(), storage: { proxmoxCsi: { datastore: "l" } } }, /^storage\.proxmoxCsi\.datastore: must be the Proxmox datastore/],
  ["CSI without a datastore", { ...base(), storage: { proxmoxCsi: {} } }, /^storage\.proxmoxCsi\.datastore: is required: the Proxmox datastore for volume disks/],
  ["CSI region that is no label value", { ...base(), storage: { proxmoxCsi: { datastore: "local-lvm", region: "home lab" } } }, /^storage\.proxmoxCsi\.region: must be a Kubernetes label value such as homelab/],
  ["CSI storage class that is no object name", { ...base(), storage: { proxmoxCsi: { datastore: "local-lvm", storageClass: "Fast_Disks" } } }, /^storage\.proxmoxCsi\.storageClass: must be a Kubernetes object name such as proxmox, got "Fast_Disks"/],
  ["CSI fsType", { ...base(), storage: { proxmoxCsi: { datastore: "local-lvm", fsType: "btrfs" } } }, /^storage\.proxmoxCsi\.fsType: must be ext4 or xfs, got "btrfs"/],
  ["misspelt CSI key", { ...base(), storage: { proxmoxCsi: { datastore: "local-lvm", reclaimPolcy: "Delete" } } }, /^storage\.proxmoxCsi\.reclaimPolcy: unknown key; did you mean reclaimPolicy\? Valid keys: datastore, storageClass, default, fsType, reclaimPolicy, region, version/],
  ["CSI with cni none", { ...base(), cni: "none", workloadEnabled: false, storage: { proxmoxCsi: { datastore: "local-lvm" } } }, /^storage\.proxmoxCsi: needs a pod network the program installs \(cni is none/],
  ["CSI beside a VM with ID 9999", { ...base(), nodes: [node(1), node(2), node(3, { vmId: 9999 })], storage: { proxmoxCsi: { datastore: "local-lvm" } } }, /^nodes\[2\]\.vmId: 9999 is the VM ID the Proxmox CSI plugin \(storage\.proxmoxCsi\) files every volume disk under/],
  // talos-demo-03's offset under vmIdBase is 783 (sha256 of its name, config/network.ts vmIdOffset): 9216 + 783 = 9999.
  ["CSI beside a VM whose derived ID is 9999", { ...base(), vmIdBase: 9216, storage: { proxmoxCsi: { datastore: "local-lvm" } } }, /^vmIdBase: 9216 gives nodes\[2\] \(talos-demo-03\) the VM ID 9999, the VM ID the Proxmox CSI plugin \(storage\.proxmoxCsi\) files every volume disk under.*choose another vmIdBase, or set nodes\[2\]\.vmId$/],
  ["CSI with a cluster name too long for its Proxmox user", { ...base(), clusterName: "a".repeat(57), storage: { proxmoxCsi: { datastore: "local-lvm" } } }, /^storage\.proxmoxCsi: the plugin's Proxmox user a{57}-csi@pve would be longer than the 64 characters Proxmox allows/],
  ["diskDatastore with a character Proxmox refuses", { ...base(), diskDatastore: "local/lvm" }, /^diskDatastore: must be a Proxmox datastore name for VM disks, e\.g\. local-lvm, got "local\/lvm"/],
  ["duplicate inline manifest names", { ...base(), inlineManifests: [{ name: "a", contents: "x: 1" }, { name: "a", contents: "y: 2" }] }, /^inlineManifests\[1\]\.name: a is already used by inlineManifests\[0\]/],
];

/** The problems validateConfig reports for a config (fails the test if it accepts it). */
export function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    validateConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("config was accepted");
}

/** TalosVm arguments for one node of a validated spec, as the cluster gives them (ISO on `local`, `local-lvm`, `vmbr0`). */
export const talosVmArgs = (spec: { clusterName: string; nodes: unknown[] }, i: number) => ({
  node: spec.nodes[i] as NodeSpec,
  clusterName: spec.clusterName,
  isoFileId: "local:iso/talos.iso",
  cpuType: "host",
  diskDatastore: "local-lvm",
  bridge: "vmbr0",
  guestAgent: true,
});
