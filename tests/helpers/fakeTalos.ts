/**
 * A fake Talos API (apid) on 127.0.0.1 with real mutual TLS, for the talosapi tests. It stands for
 * a control-plane endpoint: calls without `node` metadata are served by the first control plane,
 * `node: <ip|name>` routes to that simulated node (one value only, else INVALID_ARGUMENT like
 * apid). Each node simulates boots (boot id, version), installs, etcd membership and resets.
 * Behaviours per node: clean upgrade, A/B rollback, never returning, unhealthy etcd, failing
 * installer. Each node also holds a machine config and the COSI resources Talos renders from it
 * (fakeTalosResources.ts); an applied config re-renders them and tells `onRendered`.
 * Every call is logged as `{ method, node }` so tests can assert the order.
 */
import * as grpc from "@grpc/grpc-js";
import { createHash, randomUUID } from "node:crypto";
import { stringify } from "yaml";
import { talosPackageDefinition } from "../../talosapi/protos";
import { compareTalosVersions } from "../../talosapi/versions";
import { generatedConfig, rerender, type FakeExtraArgs, type RenderedResource } from "./fakeTalosResources";
import type { TestPki } from "./talosPki";
import { tarGz } from "./tarGz";

export interface FakeNodeSpec {
  name: string;
  ip: string;
  role: "controlplane" | "worker";
  version: string;
  /** After an installed upgrade, the next boot: new version, old version (rollback), or never up. */
  onUpgradeBoot?: "clean" | "rollback" | "never-returns";
  /** etcd service unhealthy (control planes). */
  etcdUnhealthy?: boolean;
  /** LifecycleService installer exit code (default 0). */
  installerExitCode?: number;
  /** Powered off from the start. */
  down?: boolean;
  /**
   * Schematic ID of the booted Image Factory image (none: not a factory image). The node publishes
   * it as the `schematic` extension's version, like every factory image.
   */
  schematic?: string;
  /**
   * After each boot, this many reads of the extension statuses find none yet (Talos publishes them
   * once per boot from a controller, extension_status.go:46-52, not before the API answers).
   */
  extensionsLateReads?: number;
  /** Kubernetes version of the initial config (default 1.36.3). */
  kubernetesVersion?: string;
  /** `extraArgs` in the initial config, per component. */
  extraArgs?: FakeExtraArgs;
  /** kube-proxy enabled in the initial config (default true). */
  kubeProxy?: boolean;
  /** The kubelet service reports unhealthy. */
  kubeletUnhealthy?: boolean;
  /** This static pod (e.g. `kube-apiserver`) never turns Ready after its config changes. */
  staticPodNeverReady?: string;
  /** The kubelet keeps reporting its old version after its image changes. */
  kubeletNeverUpdates?: boolean;
  /** EtcdSnapshot: fails (UNKNOWN), ends early without etcd's hash, or carries a wrong hash. */
  snapshotFault?: "fails" | "truncated" | "corrupt";
}

export interface FakeNode extends FakeNodeSpec {
  bootId: string;
  bootTime: number;
  up: boolean;
  pulled: Set<string>;
  /** Version the next boot runs (set by a successful install). */
  installed?: string;
  /** Schematic of the installed image (undefined: not a factory installer). */
  installedSchematic?: string;
  /** Extension-status reads left that find none (counts down after each boot). */
  extensionsHidden: number;
  /** Set while rebooting: called when a call finds the node down. */
  onFoundDown?: () => void;
  resetRequest?: unknown;
  appliedModes: string[];
  /** The running machine config and what it renders. */
  config: string;
  resources: RenderedResource[];
}

export interface FakeEtcdMember {
  id: string;
  hostname: string;
  ip: string;
}

export interface CallRecord {
  method: string;
  node: string;
}

/**
 * An etcd snapshot as the node streams it: a bbolt-sized database (whole 4 KiB pages) followed by
 * the SHA-256 of those bytes, as etcd's maintenance Snapshot appends it (etcd-io/etcd v3.6.12
 * server/etcdserver/api/v3rpc/maintenance.go:153,198-205); `talosctl etcd snapshot` expects
 * size % 512 == 32 (siderolabs/talos v1.13.9 cmd/talosctl/cmd/talos/etcd.go:374).
 */
export function fakeSnapshotBytes(node: string, pages = 3): Buffer {
  const db = Buffer.alloc(pages * 4096);
  for (let i = 0; i < db.length; i++) db[i] = (node.charCodeAt(i % node.length) + i) & 0xff;
  return Buffer.concat([db, createHash("sha256").update(db).digest()]);
}

/** The snapshot in chunks that do not line up with the hash (the client must join them). */
function snapshotChunks(node: FakeNode): object[] {
  let bytes = fakeSnapshotBytes(node.name);
  if (node.snapshotFault === "fails") throw new Status(grpc.status.UNKNOWN, "failed reading etcd snapshot: etcdserver: request timed out");
  if (node.snapshotFault === "truncated") bytes = bytes.subarray(0, 4096 + 100);
  if (node.snapshotFault === "corrupt") bytes = Buffer.concat([bytes.subarray(0, 10), Buffer.from([bytes[10] ^ 0xff]), bytes.subarray(11)]);
  const chunks: object[] = [];
  for (let at = 0; at < bytes.length; at += 1000) chunks.push({ bytes: bytes.subarray(at, at + 1000) });
  return chunks;
}

const ADMIN_ONLY = new Set(["Upgrade", "Reset", "Read", "Kubeconfig", "EtcdLeaveCluster", "EtcdRemoveMemberByID", "EtcdForfeitLeadership", "LifecycleService/Upgrade"]);

/** Raised inside handlers: becomes a gRPC status. */
class Status extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

/** The fake server. Create, `start()`, use `address`, `stop()`. */
export class FakeTalos {
  readonly nodes: FakeNode[];
  members: FakeEtcdMember[];
  leaderId: string;
  readonly calls: CallRecord[] = [];
  /** When set, every call is also appended as `<method> <node>` (shared with FakeKube for ordering). */
  timeline?: string[];
  /**
   * The least time a node is unreachable while rebooting (ms). It comes back only once a call has
   * also found it down: a real reboot outlasts any poll interval, and a busy test machine must not
   * let a fast fake boot slip between two probes.
   */
  rebootDowntimeMs = 60;
  /** Raw `node` metadata value counts seen per call (to check "sent once"). */
  readonly nodeHeaderCounts: number[] = [];
  kubeconfig = "apiVersion: v1\nkind: Config\n";
  /** Called with the resources an applied config changed (the fake cluster starts static pods and kubelets from it). */
  onRendered?: (node: FakeNode, changed: RenderedResource[]) => void;
  private resourceVersion = 0;
  port = 0;
  private readonly server = new grpc.Server();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(specs: FakeNodeSpec[]) {
    this.nodes = specs.map((spec) => ({
      ...spec,
      bootId: randomUUID(),
      bootTime: 1_700_000_000,
      up: !spec.down,
      pulled: new Set<string>(),
      appliedModes: [],
      extensionsHidden: 0,
      config: generatedConfig(spec.name, spec.role, spec.kubernetesVersion ?? "1.36.3", spec.kubeProxy ?? true, spec.extraArgs),
      resources: [],
    }));
    for (const node of this.nodes) node.resources = rerender([], node.config, node.role, () => ++this.resourceVersion).resources;
    // ids above 2^53: precision is lost unless the client keeps uint64 as strings
    this.members = this.nodes
      .filter((n) => n.role === "controlplane")
      .map((n, i) => ({ id: (18_000_000_000_000_000_000n + BigInt(i + 1)).toString(), hostname: n.name, ip: n.ip }));
    this.leaderId = this.members[0]?.id ?? "0";
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  node(nameOrIp: string): FakeNode {
    const node = this.nodes.find((n) => n.name === nameOrIp || n.ip === nameOrIp);
    if (!node) throw new Error(`no fake node ${nameOrIp}`);
    return node;
  }

  /** Calls to one method, as node names in order. */
  callsTo(method: string): string[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.node);
  }

  async start(pki: TestPki): Promise<void> {
    const definition = talosPackageDefinition();
    // Client certificates are verified, expiry included, as apid does: it serves with
    // tls.RequireAndVerifyClientCert (siderolabs/talos v1.13.9 internal/app/apid/pkg/provider/provider.go:110-121,
    // siderolabs/crypto tls/tls.go:34-35). With checkClientCertificate grpc-js sets requestCert and
    // rejectUnauthorized, so Node's TLS refuses an expired client certificate the same way.
    const credentials = grpc.ServerCredentials.createSsl(Buffer.from(pki.ca.cert), [{ cert_chain: Buffer.from(pki.server.cert), private_key: Buffer.from(pki.server.key) }], true);
    this.server.addService(definition["machine.MachineService"] as grpc.ServiceDefinition, this.machineService());
    this.server.addService(definition["machine.LifecycleService"] as grpc.ServiceDefinition, { Upgrade: this.stream("LifecycleService/Upgrade", (n, req) => this.lifecycleUpgrade(n, req)) });
    this.server.addService(definition["machine.ImageService"] as grpc.ServiceDefinition, { Pull: this.stream("ImageService/Pull", (n, req) => this.imagePull(n, req)) });
    this.server.addService(definition["cosi.resource.State"] as grpc.ServiceDefinition, this.stateService());
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", credentials, (error, port) => (error ? reject(error) : resolve(port))),
    );
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.forceShutdown();
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  /** Routes a call like apid: one `node` value, node must be up, admin methods need `O=os:admin`. */
  private route(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>, method: string): FakeNode {
    const values = call.metadata.get("node");
    this.nodeHeaderCounts.push(values.length);
    if (values.length > 1) throw new Status(grpc.status.INVALID_ARGUMENT, "node metadata must be single-valued");
    const target = values.length === 1 ? String(values[0]) : this.nodes.find((n) => n.role === "controlplane")!.ip;
    const node = this.nodes.find((n) => n.ip === target || n.name === target);
    this.calls.push({ method, node: node?.name ?? target });
    this.timeline?.push(`${method} ${node?.name ?? target}`);
    const organization = call.getAuthContext()?.sslPeerCertificate?.subject?.O;
    if (ADMIN_ONLY.has(method.replace(/^MachineService\//, "")) && organization !== "os:admin") throw new Status(grpc.status.PERMISSION_DENIED, "not authorized");
    if (node && !node.up) node.onFoundDown?.();
    if (!node || !node.up) throw new Status(grpc.status.UNAVAILABLE, `connection error: dial tcp ${target}:50000: connect: connection refused`);
    return node;
  }

  private unary(method: string, handler: (node: FakeNode, request: never) => object): grpc.handleUnaryCall<unknown, unknown> {
    return (call, callback) => {
      try {
        const node = this.route(call, `MachineService/${method}`);
        callback(null, { messages: [handler(node, call.request as never)] });
      } catch (error) {
        callback(error instanceof Status ? { code: error.code, details: error.message } : (error as Error));
      }
    };
  }

  private stream(method: string, handler: (node: FakeNode, request: never) => object[]): grpc.handleServerStreamingCall<unknown, unknown> {
    return (call) => {
      try {
        const node = this.route(call, method);
        for (const message of handler(node, call.request as never)) call.write(message);
        call.end();
      } catch (error) {
        const status = error instanceof Status ? error : new Status(grpc.status.UNKNOWN, (error as Error).message);
        call.emit("error", { code: status.code, details: status.message });
      }
    };
  }

  private controlPlaneOnly(node: FakeNode): void {
    if (node.role !== "controlplane") throw new Status(grpc.status.FAILED_PRECONDITION, "etcd is not available on worker nodes");
  }

  private lifecycleApi(node: FakeNode): void {
    if (compareTalosVersions(node.version, "v1.13.0") < 0) throw new Status(grpc.status.UNIMPLEMENTED, "unknown service");
  }

  /**
   * Reboots `node`: down at once, then up with a new boot id on the installed (or old) version
   * after `rebootDowntimeMs` and after a call found it down, whichever comes last.
   */
  reboot(node: FakeNode): void {
    node.up = false;
    let downtimeOver = false;
    let foundDown = false;
    const bootWhenBoth = () => {
      if (downtimeOver && foundDown) this.boot(node);
    };
    node.onFoundDown = () => {
      node.onFoundDown = undefined;
      foundDown = true;
      bootWhenBoth();
    };
    this.later(this.rebootDowntimeMs, () => {
      downtimeOver = true;
      bootWhenBoth();
    });
  }

  /** The boot after a reboot: the installed version and schematic, unless the node never returns or falls back. */
  private boot(node: FakeNode): void {
    const installed = node.installed;
    node.installed = undefined;
    const installedSchematic = node.installedSchematic;
    node.installedSchematic = undefined;
    if (installed && node.onUpgradeBoot === "never-returns") return;
    // A/B fallback boots the previous entry: old version AND old schematic (same version when only the image changed).
    if (installed && node.onUpgradeBoot !== "rollback") {
      node.version = installed;
      node.schematic = installedSchematic;
    }
    node.bootId = randomUUID();
    node.bootTime += 100;
    node.extensionsHidden = node.extensionsLateReads ?? 0;
    node.up = true;
  }

  private member(node: FakeNode): FakeEtcdMember | undefined {
    return this.members.find((m) => m.hostname === node.name);
  }

  private machineService(): grpc.UntypedServiceImplementation {
    const tagOf = (image: string) => image.slice(image.lastIndexOf(":") + 1);
    return {
      Version: this.unary("Version", (node) => ({ version: { tag: node.version, arch: "amd64" } })),
      SystemStat: this.unary("SystemStat", (node) => ({ boot_time: String(node.bootTime) })),
      // Down as soon as the reply is on its way: a probe right after it must not find the old boot.
      Reboot: this.unary("Reboot", (node) => {
        this.reboot(node);
        return { actor_id: randomUUID() };
      }),
      Upgrade: this.unary("Upgrade", (node, request: { image: string }) => {
        node.pulled.add(request.image);
        node.installed = tagOf(request.image);
        node.installedSchematic = factorySchematic(request.image);
        this.reboot(node); // the legacy API reboots by itself
        return { ack: "Upgrade request received", actor_id: randomUUID() };
      }),
      ImagePull: this.unary("ImagePull", (node, request: { reference: string }) => {
        node.pulled.add(request.reference);
        return {};
      }),
      ApplyConfiguration: this.unary("ApplyConfiguration", (node, request: { mode: string; data: Buffer }) => {
        node.appliedModes.push(request.mode);
        if (request.data?.length) this.applyConfig(node, request.data.toString("utf8"));
        return { mode: request.mode, mode_details: "Applied configuration without a reboot", warnings: [] };
      }),
      ServiceList: this.unary("ServiceList", (node) => {
        const services: object[] = [
          { id: "apid", state: "Running", health: { healthy: true } },
          { id: "kubelet", state: "Running", health: { healthy: !node.kubeletUnhealthy, last_message: node.kubeletUnhealthy ? "Get http://127.0.0.1:10248/healthz: connection refused" : "" } },
        ];
        if (node.role === "controlplane" && this.member(node)) {
          services.push({ id: "etcd", state: "Running", health: { healthy: !node.etcdUnhealthy, last_message: node.etcdUnhealthy ? "context deadline exceeded" : "" } });
        }
        return { services };
      }),
      EtcdMemberList: this.unary("EtcdMemberList", (node) => {
        this.controlPlaneOnly(node);
        return { members: this.members.map((m) => ({ id: m.id, hostname: m.hostname, peer_urls: [`https://${m.ip}:2380`], client_urls: [`https://${m.ip}:2379`] })) };
      }),
      EtcdStatus: this.unary("EtcdStatus", (node) => {
        this.controlPlaneOnly(node);
        const member = this.member(node);
        if (!member) throw new Status(grpc.status.UNKNOWN, "etcd is not running");
        return { member_status: { member_id: member.id, leader: this.leaderId, errors: node.etcdUnhealthy ? ["etcdserver: request timed out"] : [] } };
      }),
      EtcdLeaveCluster: this.unary("EtcdLeaveCluster", (node) => {
        this.controlPlaneOnly(node);
        this.members = this.members.filter((m) => m.hostname !== node.name);
        return {};
      }),
      EtcdRemoveMemberByID: this.unary("EtcdRemoveMemberByID", (node, request: { member_id: string }) => {
        this.controlPlaneOnly(node);
        if (!this.members.some((m) => m.id === request.member_id)) throw new Status(grpc.status.NOT_FOUND, "member not found");
        this.members = this.members.filter((m) => m.id !== request.member_id);
        return {};
      }),
      EtcdForfeitLeadership: this.unary("EtcdForfeitLeadership", (node) => {
        this.controlPlaneOnly(node);
        const next = this.members.find((m) => m.hostname !== node.name);
        if (next) this.leaderId = next.id;
        return { member: next?.hostname ?? "" };
      }),
      Reset: this.unary("Reset", (node, request) => {
        node.resetRequest = request;
        if (node.role === "controlplane") this.members = this.members.filter((m) => m.hostname !== node.name);
        this.later(20, () => (node.up = false)); // powers off, never comes back
        return { actor_id: randomUUID() };
      }),
      Read: this.stream("MachineService/Read", (node, request: { path: string }) => {
        if (request.path === "/proc/sys/kernel/random/boot_id") return [{ bytes: Buffer.from(node.bootId.slice(0, 8)) }, { bytes: Buffer.from(`${node.bootId.slice(8)}\n`) }];
        if (request.path === "/big") return [{ bytes: Buffer.alloc(5 * 1024 * 1024, 0x61) }]; // above grpc-js's 4 MiB default
        throw new Status(grpc.status.NOT_FOUND, "no such file");
      }),
      // Control planes only; os:admin, os:operator or os:etcd:backup (v1.13.9 v1alpha1_server.go:1956-1990, machined.go:77).
      EtcdSnapshot: this.stream("MachineService/EtcdSnapshot", (node) => {
        this.controlPlaneOnly(node);
        return snapshotChunks(node);
      }),
      Kubeconfig: this.stream("MachineService/Kubeconfig", (node) => {
        this.controlPlaneOnly(node);
        return [{ bytes: tarGz([{ name: "kubeconfig", content: this.kubeconfig }], { unterminated: true }) }];
      }),
    };
  }

  private imagePull(node: FakeNode, request: { image_ref: string; containerd: { driver: string; namespace: string } }): object[] {
    this.lifecycleApi(node);
    if (request.containerd?.namespace !== "NS_SYSTEM" && request.containerd?.namespace !== "NS_CRI") throw new Status(grpc.status.INVALID_ARGUMENT, "expected the system or CRI namespace");
    node.pulled.add(request.containerd.namespace === "NS_CRI" ? `cri:${request.image_ref}` : request.image_ref);
    return [{ pull_progress: { layer_id: "sha256:1", progress: { status: "DOWNLOADING", offset: "1", total: "2" } } }, { name: request.image_ref }];
  }

  private applyConfig(node: FakeNode, config: string): void {
    node.config = config;
    const { resources, changed } = rerender(node.resources, config, node.role, () => ++this.resourceVersion);
    node.resources = resources;
    this.onRendered?.(node, changed);
  }

  /** COSI State Get/List as machined serves them through apid: no per-node envelope, NOT_FOUND for a missing id. */
  private stateService(): grpc.UntypedServiceImplementation {
    const wire = (r: RenderedResource) => ({
      metadata: { namespace: r.namespace, type: r.type, id: r.id, version: String(r.version), phase: "running", labels: {}, annotations: {} },
      // Talos renders a machine config spec as one YAML string scalar (config/machine_config.go MarshalYAML).
      spec: { yaml_spec: stringify(r.spec), proto_spec: Buffer.alloc(0) },
    });
    const find = (node: FakeNode, request: { namespace: string; type: string }) => [...node.resources, ...publishedExtensions(node, request.type)].filter((r) => r.namespace === request.namespace && r.type === request.type);
    return {
      Get: (call: grpc.ServerUnaryCall<{ namespace: string; type: string; id: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        try {
          const node = this.route(call, "State/Get");
          const found = find(node, call.request).find((r) => r.id === call.request.id);
          if (!found) throw new Status(grpc.status.NOT_FOUND, `resource ${call.request.type}/${call.request.id} doesn't exist`);
          callback(null, { resource: wire(found) });
        } catch (error) {
          callback(error instanceof Status ? { code: error.code, details: error.message } : (error as Error));
        }
      },
      List: this.stream("State/List", (node, request: { namespace: string; type: string }) => find(node, request).map((r) => ({ resource: wire(r) }))),
    };
  }

  private lifecycleUpgrade(node: FakeNode, request: { source: { image_name: string } }): object[] {
    this.lifecycleApi(node);
    const image = request.source?.image_name ?? "";
    if (!node.pulled.has(image)) throw new Status(grpc.status.UNKNOWN, `installer image ${image} not found in containerd store`);
    const exitCode = node.installerExitCode ?? 0;
    if (exitCode === 0) {
      node.installed = image.slice(image.lastIndexOf(":") + 1);
      node.installedSchematic = factorySchematic(image);
    }
    return [{ progress: { message: "running installer" } }, { progress: { message: exitCode === 0 ? "upgrade done" : "install failed" } }, { progress: { exit_code: exitCode } }];
  }
}

/** The schematic ID in a factory installer reference (`factory.talos.dev/<platform>-installer/<id>:<tag>`). */
function factorySchematic(image: string): string | undefined {
  return /^factory\.talos\.dev\/(?:[a-z0-9-]+-)?installer\/([0-9a-f]+)[:@]/.exec(image)?.[1];
}

/**
 * The ExtensionStatuses of the booted image, as Talos publishes them once per boot: one per
 * extension layer, id = layer file name without `.sqsh`, spec = the layer (siderolabs/talos
 * v1.13.9 internal/app/machined/pkg/controllers/runtime/extension_status.go:61-68, namespace
 * `runtime`, pkg/machinery/resources/runtime/extension_status.go:18). A factory image carries a
 * virtual extension `schematic` whose version is the schematic ID (siderolabs/image-factory v1.5.0
 * internal/artifacts/schematic.go:65-72, pkg/constants/constants.go:10).
 */
function extensionStatuses(node: FakeNode): RenderedResource[] {
  if (node.schematic === undefined) return [];
  const layer = (id: string, name: string, version: string) => ({
    namespace: "runtime",
    type: "ExtensionStatuses.runtime.talos.dev",
    id,
    version: 1,
    spec: { image: `${id}.sqsh`, metadata: { name, version, author: "Sidero Labs", description: name, compatibility: { talos: { version: ">= 1.0.0" } } } },
  });
  return [layer("0", "qemu-guest-agent", "10.0.2"), layer("1", "schematic", node.schematic)];
}

/** The extension statuses a read finds: none while the node's controller has not run yet after a boot. */
function publishedExtensions(node: FakeNode, type: string): RenderedResource[] {
  if (type !== "ExtensionStatuses.runtime.talos.dev") return [];
  if (node.extensionsHidden > 0) {
    node.extensionsHidden -= 1;
    return [];
  }
  return extensionStatuses(node);
}

/** Starts a fake with the given nodes. */
export async function startFakeTalos(pki: TestPki, specs: FakeNodeSpec[]): Promise<FakeTalos> {
  const fake = new FakeTalos(specs);
  await fake.start(pki);
  return fake;
}
