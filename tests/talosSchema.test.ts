import * as fs from "node:fs";
import * as path from "node:path";
import { validateConfig } from "../config/validate";
import { PATCH_DIR, nodePatches, rolePatches } from "../config/patches";
import { DOCUMENT_KINDS } from "../config/talosSchema/documents";
import { Spec } from "../config/talosSchema/types";
import { V1ALPHA1 } from "../config/talosSchema/v1alpha1";
import { TalosProblem, validateTalosDocuments, validateTalosPatch } from "../config/talosSchema/checkDocuments";
import { base, node } from "./helpers/configCases";

const INSTALLER = "factory.talos.dev/metal-installer/abc123:v1.13.9";
const clean = (text: string) => expect(validateTalosPatch(text)).toEqual({ problems: [], warnings: [] });
const show = (p: TalosProblem) => `${p.document} ${p.path}: ${p.message}`;

describe("valid patches", () => {
  test.each(fs.readdirSync(PATCH_DIR))("patches/%s", (file) => {
    clean(fs.readFileSync(path.join(PATCH_DIR, file), "utf8"));
  });

  test("everything the program renders for the dev stack, every role and CNI", () => {
    const variants = [
      validateConfig(base()).spec,
      validateConfig({ ...base(), cni: "custom", cniUrls: ["https://example.test/cni/v1.0.0/install.yaml"] }).spec,
      validateConfig({ ...base(), cni: "none", workloadEnabled: false, allowSchedulingOnControlPlanes: false }).spec,
      validateConfig({ ...base(), nodes: [node(1), node(4, { role: "worker" })] }).spec,
    ];
    let count = 0;
    for (const spec of variants) {
      for (const n of spec.nodes) {
        for (const patch of [...rolePatches(spec, n.role), ...nodePatches(spec, n, INSTALLER)]) {
          clean(patch);
          count++;
        }
      }
    }
    expect(count).toBeGreaterThan(20);
  });

  test("the rendered node patches as one multi-document patch", () => {
    const spec = validateConfig(base()).spec;
    clean(nodePatches(spec, spec.nodes[0], INSTALLER).join("---\n"));
  });

  test("static address: LinkConfig with addresses and a default route, resolver, NTP", () => {
    clean(`
apiVersion: v1alpha1
kind: LinkConfig
name: eth0
up: true
mtu: 1500
addresses:
  - address: 10.0.10.11/24
routes:
  - gateway: 10.0.10.1
  - destination: 192.168.0.0/16
    gateway: 10.0.10.254
    metric: 1024
    table: main
---
apiVersion: v1alpha1
kind: ResolverConfig
nameservers:
  - address: 10.0.10.1
  - address: 2001:db8::53
searchDomains:
  domains: [lab.example.org]
  disableDefault: true
---
apiVersion: v1alpha1
kind: TimeSyncConfig
ntp:
  servers: [time.cloudflare.com, 0.pool.ntp.org]
bootTimeout: 2m
---
apiVersion: v1alpha1
kind: Layer2VIPConfig
name: 10.0.10.10
link: eth0
`);
  });

  test("Longhorn: kubelet extraMounts with a user volume", () => {
    clean(`
machine:
  kubelet:
    extraMounts:
      - destination: /var/lib/longhorn
        type: bind
        source: /var/lib/longhorn
        options: [bind, rshared, rw]
  sysctls:
    vm.nr_hugepages: "1024"
  kernel:
    modules:
      - name: nbd
      - name: iscsi_tcp
---
apiVersion: v1alpha1
kind: UserVolumeConfig
name: longhorn
provisioning:
  diskSelector:
    match: disk.dev_path == '/dev/sdb'
  minSize: 100GiB
  grow: true
filesystem:
  type: xfs
`);
  });

  test("Longhorn the pre-1.12 way: machine.disks is deprecated but accepted", () => {
    const result = validateTalosPatch(
      "machine:\n  disks:\n    - device: /dev/sdb\n      partitions:\n        - mountpoint: /var/lib/longhorn\n",
    );
    expect(result.problems).toEqual([]);
    expect(result.warnings.map(show)).toEqual([
      expect.stringMatching(/^0 machine\.disks: deprecated, .*UserVolumeConfig/),
    ]);
  });

  test("no kube-proxy and no CNI (for Cilium), with inline manifests and extra args", () => {
    clean(`
cluster:
  network:
    cni:
      name: none
    podSubnets: [10.244.0.0/16]
  proxy:
    disabled: true
  apiServer:
    extraArgs:
      feature-gates: SomeGate=true
      tls-cipher-suites: [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384]
    certSANs: [10.0.10.10]
  inlineManifests:
    - name: cilium-values
      contents: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cilium-values, namespace: kube-system}
  allowSchedulingOnControlPlanes: true
machine:
  features:
    kubePrism: {enabled: true, port: 7445}
    hostDNS: {enabled: true, forwardKubeDNSToHost: false}
`);
  });

  test("walk-through spellings Talos's decoder takes: unquoted true for a string, yes for a bool", () => {
    clean(
      "machine:\n  kubelet:\n    extraArgs:\n      rotate-server-certificates: true\n  install:\n    wipe: yes\n    disk: /dev/sda\n",
    );
  });

  test("free-form areas take anything: kubelet extraConfig, static pods, audit policy", () => {
    clean(`
machine:
  kubelet:
    extraConfig:
      serverTLSBootstrap: true
      evictionHard: {memory.available: 100Mi}
  pods:
    - apiVersion: v1
      kind: Pod
      metadata: {name: nginx}
cluster:
  apiServer:
    auditPolicy:
      apiVersion: audit.k8s.io/v1
      kind: Policy
      rules: [{level: Metadata}]
`);
  });

  test("$patch: delete on a mapping, a list item and a whole document", () => {
    clean(`
machine:
  network:
    $patch: delete
  kubelet:
    extraMounts:
      - destination: /var/lib/longhorn
        $patch: delete
---
apiVersion: v1alpha1
kind: LinkConfig
name: eth1
$patch: delete
`);
  });

  test("a JSON patch (RFC 6902) as the whole patch: ops checked, fields not, and a warning", () => {
    const result = validateTalosPatch(`
- op: add
  path: /machine/install/disk
  value: /dev/vda
- op: remove
  path: /cluster/proxy
`);
    expect(result.problems).toEqual([]);
    expect(result.warnings.map(show)).toEqual([
      expect.stringMatching(/single-document machine config.*HostnameConfig/),
    ]);
  });

  test("legacy machine.network: accepted with warnings that name the replacement", () => {
    const result = validateTalosPatch(`
machine:
  network:
    interfaces:
      - deviceSelector: {hardwareAddr: "02:00:00:00:00:01"}
        addresses: [10.0.10.11/24]
        routes: [{network: 0.0.0.0/0, gateway: 10.0.10.1}]
        dhcp: false
        vip: {ip: 10.0.10.10}
    nameservers: [10.0.10.1]
`);
    expect(result.problems).toEqual([]);
    expect(result.warnings.map((w) => w.path)).toEqual([
      "machine.network",
      "machine.network.interfaces",
      "machine.network.nameservers",
    ]);
    expect(result.warnings[1].message).toMatch(/LinkConfig/);
  });

  test('"" leaves a plain string enum unset (machine.type: "" is a worker), not a parsed enum type', () => {
    clean('machine:\n  type: ""\n');
    const { problems } = validateTalosPatch('apiVersion: v1alpha1\nkind: HostnameConfig\nauto: ""\n');
    expect(show(problems[0])).toBe('0 auto: must be one of stable, off, got ""');
  });

  test("already-parsed documents; empty documents are skipped", () => {
    expect(validateTalosDocuments([null, { cluster: { network: { cni: { name: "flannel" } } } }])).toEqual({
      problems: [],
      warnings: [],
    });
    expect(validateTalosPatch("")).toEqual({ problems: [], warnings: [] });
  });
});

/** [what, patch, the first problem as "<document> <path>: <message>"]. */
const REJECTED: [string, string, RegExp][] = [
  [
    "unknown key under kubelet, with the near one and the valid keys",
    "machine:\n  kubelet:\n    extraArgz:\n      v: '2'\n",
    /^0 machine\.kubelet\.extraArgz: unknown key; did you mean extraArgs\? Valid keys: image, clusterDNS, extraArgs, extraMounts, /,
  ],
  [
    "unknown top-level key of the v1alpha1 config",
    "machine: {}\nclustr: {}\n",
    /^0 clustr: unknown key; did you mean cluster\? Valid keys: version, debug, persist, machine, cluster$/,
  ],
  [
    "unknown key four levels down",
    "machine:\n  install:\n    diskSelector:\n      sise: '>= 10GB'\n",
    /^0 machine\.install\.diskSelector\.sise: unknown key; did you mean size\?/,
  ],
  [
    "unknown key in a list item",
    "machine:\n  kubelet:\n    extraMounts:\n      - desination: /var/lib/longhorn\n",
    /^0 machine\.kubelet\.extraMounts\[0\]\.desination: unknown key; did you mean destination\?/,
  ],
  [
    "unknown key with nothing near it",
    "cluster:\n  podSecurity: {}\n",
    /^0 cluster\.podSecurity: unknown key\. Valid keys: id, secret, /,
  ],
  [
    "unknown key in a document kind",
    "apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nadresses: [{address: 10.0.10.11/24}]\n",
    /^0 adresses: unknown key; did you mean addresses\? Valid keys: apiVersion, kind, name, up, mtu, addresses, routes, multicast$/,
  ],
  [
    "unknown key in a route of a document",
    "apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nroutes:\n  - gw: 10.0.10.1\n",
    /^0 routes\[0\]\.gw: unknown key\. Valid keys: destination, gateway, source, metric, mtu, table$/,
  ],
  [
    "boolean expected",
    "machine:\n  install:\n    wipe: maybe\n",
    /^0 machine\.install\.wipe: must be true or false, got "maybe"$/,
  ],
  [
    "list expected",
    "cluster:\n  extraManifests: https://example.test/a.yaml\n",
    /^0 cluster\.extraManifests: must be a list, got "https:\/\/example\.test\/a\.yaml"$/,
  ],
  [
    "whole number expected, not a string",
    "apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nmtu: '1500'\n",
    /^0 mtu: must be a whole number from 0 to 4294967295, got "1500"$/,
  ],
  [
    "mapping expected",
    "machine:\n  kubelet: true\n",
    /^0 machine\.kubelet: must be a mapping with keys image, clusterDNS, .*, got boolean true$/,
  ],
  [
    "string expected, not a mapping",
    "machine:\n  install:\n    disk: {path: /dev/sda}\n",
    /^0 machine\.install\.disk: must be a string, got a mapping$/,
  ],
  [
    "extraArgs value neither string nor list",
    "machine:\n  kubelet:\n    extraArgs:\n      v: {level: 2}\n",
    /^0 machine\.kubelet\.extraArgs\.v: must be a string or a list of strings, got a mapping$/,
  ],
  [
    "bad CNI name",
    "cluster:\n  network:\n    cni:\n      name: calico\n",
    /^0 cluster\.network\.cni\.name: must be one of flannel, custom, none, got "calico"$/,
  ],
  [
    "bad enum, near a valid value",
    "cluster:\n  network:\n    cni:\n      name: flanel\n",
    /^0 cluster\.network\.cni\.name: must be one of flannel, custom, none, got "flanel"; did you mean flannel\?$/,
  ],
  [
    "bad enum in a document",
    "apiVersion: v1alpha1\nkind: HostnameConfig\nauto: random\n",
    /^0 auto: must be one of stable, off, got "random"$/,
  ],
  [
    "bad enum of a bond",
    "apiVersion: v1alpha1\nkind: BondConfig\nname: bond0\nlinks: [eth0, eth1]\nbondMode: active-backupp\n",
    /^0 bondMode: must be one of balance-rr, active-backup, .*, got "active-backupp"; did you mean active-backup\?$/,
  ],
  ["missing name of a LinkConfig", "apiVersion: v1alpha1\nkind: LinkConfig\nup: true\n", /^0 name: is required$/],
  [
    "missing link of a Layer2VIPConfig",
    "apiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: 10.0.10.10\n",
    /^0 link: is required$/,
  ],
  [
    "missing name of a DHCPv4Config",
    "apiVersion: v1alpha1\nkind: DHCPv4Config\nrouteMetric: 1024\n",
    /^0 name: is required$/,
  ],
  [
    "missing apiVersion",
    "kind: LinkConfig\nname: eth0\n",
    /^0 apiVersion: is required: v1alpha1 \(with kind LinkConfig\)$/,
  ],
  [
    "wrong apiVersion",
    "apiVersion: v1alpha2\nkind: LinkConfig\nname: eth0\n",
    /^0 apiVersion: must be one of v1alpha1, got "v1alpha2"; did you mean v1alpha1\?$/,
  ],
  [
    "unknown kind, near a known one",
    "apiVersion: v1alpha1\nkind: LinkConfg\nname: eth0\n",
    /^0 kind: unknown kind "LinkConfg"; did you mean LinkConfig\? Known kinds in Talos v1\.13\.9: HostnameConfig, /,
  ],
  [
    "NTPConfig is not a kind (time sync is TimeSyncConfig)",
    "apiVersion: v1alpha1\nkind: NTPConfig\n",
    /^0 kind: unknown kind "NTPConfig"\. Known kinds/,
  ],
  [
    "no kind and no v1alpha1 key",
    "machin:\n  install: {disk: /dev/sda}\n",
    /^0 kind: is required: .*; did you mean machine\?$/,
  ],
  [
    "YAML syntax error, with its line",
    "machine:\n  install:\n    disk: /dev/sda\n    image: [factory.talos.dev\n",
    /^0 : YAML syntax error: .* at line 5, column 1$/,
  ],
  [
    "YAML duplicate key, with its line",
    "machine: {}\nmachine: {}\n",
    /^0 : YAML syntax error: Map keys must be unique at line 2, column 1$/,
  ],
  [
    "a static address without its prefix length",
    "apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\naddresses:\n  - address: 10.0.10.11\n",
    /^0 addresses\[0\]\.address: must be an address with a prefix length such as 10\.0\.10\.11\/24, got "10\.0\.10\.11"$/,
  ],
  [
    "a VIP that is not an IP",
    "apiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: vip.example.org\nlink: eth0\n",
    /^0 name: must be an IP address/,
  ],
  [
    "VLAN ID out of range",
    "apiVersion: v1alpha1\nkind: VLANConfig\nname: eth0.5000\nparent: eth0\nvlanID: 5000\n",
    /^0 vlanID: must be a whole number from 1 to 4094, got number 5000$/,
  ],
  [
    "hostname with auto: stable",
    "apiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable\nhostname: talos-demo-01\n",
    /^0 auto: must be off \(or unset\) when hostname is set, got "stable"$/,
  ],
  [
    "HostnameConfig with neither",
    "apiVersion: v1alpha1\nkind: HostnameConfig\n",
    /^0 : set either auto \(stable or off\) or hostname$/,
  ],
  [
    "user volume without a disk selector",
    "apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: longhorn\n",
    /^0 provisioning\.diskSelector\.match: is required: a CEL expression/,
  ],
  [
    "URLs with the flannel CNI",
    "cluster:\n  network:\n    cni:\n      name: flannel\n      urls: [https://example.test/cni.yaml]\n",
    /^0 cluster\.network\.cni\.urls: must be empty for the flannel CNI/,
  ],
  [
    "duration that Go cannot parse",
    "apiVersion: v1alpha1\nkind: TimeSyncConfig\nbootTimeout: 2 minutes\n",
    /^0 bootTimeout: must be a duration such as 30s, 5m or 1h30m, got "2 minutes"$/,
  ],
  [
    "$patch other than delete",
    "machine:\n  network:\n    $patch: replace\n",
    /^0 machine\.network\.\$patch: must be delete \(Talos supports only \$patch: delete\), got "replace"$/,
  ],
  [
    "$patch: delete inside a list item",
    "machine:\n  kubelet:\n    extraMounts:\n      - destination: /x\n        options:\n          $patch: delete\n",
    /^0 machine\.kubelet\.extraMounts\[0\]\.options\.\$patch: cannot delete a key inside a list item/,
  ],
  [
    "the same document twice",
    "apiVersion: v1alpha1\nkind: DHCPv4Config\nname: eth0\n---\napiVersion: v1alpha1\nkind: DHCPv4Config\nname: eth0\n",
    /^1 : duplicate document v1alpha1\/DHCPv4Config\/eth0: document 0 already has it$/,
  ],
  [
    "a bad second document is numbered 1",
    "cluster: {}\n---\napiVersion: v1alpha1\nkind: ResolverConfig\nnameservers: [10.0.10.1]\n",
    /^1 nameservers\[0\]: must be a mapping with keys address, got "10\.0\.10\.1"$/,
  ],
  [
    "JSON patch with an unknown op",
    "- op: delete\n  path: /cluster/proxy\n",
    /^0 \[0\]\.op: must be one of add, remove, replace, move, copy, test, got "delete"$/,
  ],
  [
    "JSON patch add without value",
    "- op: add\n  path: /machine/install/disk\n",
    /^0 \[0\]\.value: is required for op add$/,
  ],
  [
    "a list next to other documents",
    "cluster: {}\n---\n- op: remove\n  path: /cluster\n",
    /^1 : must be a mapping \(a config document\), got a list: a JSON patch .* must be the whole patch$/,
  ],
];

describe("rejected patches name the field and what would be valid", () => {
  test.each(REJECTED)("%s", (_what, patch, expected) => {
    const { problems } = validateTalosPatch(patch);
    expect(problems.length).toBeGreaterThan(0);
    expect(show(problems[0])).toMatch(expected);
  });

  test("every problem of a patch at once", () => {
    const { problems } = validateTalosPatch(
      "machine:\n  install:\n    wipe: maybe\n    disk: [a]\n  kubelet:\n    extraArgz: {}\n",
    );
    expect(problems.map((p) => p.path)).toEqual([
      "machine.install.wipe",
      "machine.install.disk",
      "machine.kubelet.extraArgz",
    ]);
  });

  test("hostname without auto: off is valid alone but warned (the generated auto: stable would merge in)", () => {
    const result = validateTalosPatch("apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: talos-demo-01\n");
    expect(result.problems).toEqual([]);
    expect(result.warnings.map(show)).toEqual([expect.stringMatching(/^0 auto: set auto: off next to hostname/)]);
  });
});

describe("the description itself", () => {
  /** Field paths: each key at each place it can appear. */
  function count(spec: Spec): { fields: number; deprecated: number } {
    let fields = 0;
    let deprecated = 0;
    const walk = (s: Spec) => {
      if (s.kind === "object") {
        for (const f of Object.values(s.fields)) {
          fields++;
          if (f.deprecated) deprecated++;
          walk(f);
        }
      } else if (s.kind === "list" || s.kind === "map") walk(s.of);
      else if (s.kind === "either") s.options.forEach(walk);
    };
    walk(spec);
    return { fields, deprecated };
  }

  test("the totals in the header of documents.ts are true", () => {
    const header = fs.readFileSync(path.join(__dirname, "..", "config", "talosSchema", "documents.ts"), "utf8");
    const v1 = count(V1ALPHA1);
    const docs = Object.values(DOCUMENT_KINDS).reduce(
      (sum, def) => sum + count({ kind: "object", fields: def.fields }).fields,
      0,
    );
    const stated =
      /(\d+) kinds \(v1alpha1 \+ (\d+) documents\);\s+\*\s+(\d+) v1alpha1 field names \((\d+) of them deprecated\) and (\d+) document field names, (\d+) in all/.exec(
        header,
      );
    expect(stated?.slice(1).map(Number)).toEqual([
      Object.keys(DOCUMENT_KINDS).length + 1,
      Object.keys(DOCUMENT_KINDS).length,
      v1.fields,
      v1.deprecated,
      docs,
      v1.fields + docs,
    ]);
  });

  test("every kind is its own key, and the names Talos 1.13 dropped or renamed are not kinds", () => {
    expect(Object.keys(DOCUMENT_KINDS)).toEqual(
      expect.arrayContaining(["TimeSyncConfig", "KubeSpanEndpointsConfig", "NetworkRuleConfig"]),
    );
    expect(Object.keys(DOCUMENT_KINDS)).not.toContain("KubeSpanEndpoints");
    expect(Object.keys(DOCUMENT_KINDS)).not.toContain("NTPConfig");
  });
});
