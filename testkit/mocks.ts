import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { deserializeProperties } from "@pulumi/pulumi/runtime/rpc";
import * as YAML from "yaml";

/** When a request reached the mock engine and when it was answered. */
interface Timed {
  inputs: Record<string, unknown>;
  provider?: string;
  /** Order in which requests arrived, and in which they completed. */
  arrived: number;
  completed?: number;
  /** Wall-clock milliseconds (performance.now) of the same two events. */
  arrivedAt: number;
  completedAt?: number;
}

/** One resource registration as the mock engine saw it. */
export interface Registration extends Timed {
  type: string;
  name: string;
}

export interface InvokeCall extends Timed {
  token: string;
}

/** A resource hook the mock engine ran before a registration was answered. */
export interface HookRun {
  hook: string;
  kind: "beforeCreate" | "beforeUpdate";
  /** `type::name` of the resource. */
  resource: string;
  /** Order among requests (the same clock as `arrived`/`completed`). */
  started: number;
  finished?: number;
  /** The hook's error: the engine would fail that step and the update. */
  error?: string;
}

/** The wrapper Pulumi's RPC layer uses for a secret value inside mock inputs. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export function isSecretWrapper(value: unknown): boolean {
  return typeof value === "object" && value !== null && SECRET_SIG in value;
}

/** Removes secret wrappers, to assert on the plain values. */
export function unwrap(value: unknown): unknown {
  if (isSecretWrapper(value)) return unwrap((value as { value: unknown }).value);
  if (Array.isArray(value)) return value.map(unwrap);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
  }
  return value;
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex");

/** The secret part of the Proxmox API token the mocks create for the CSI plugin. */
export const FAKE_PROXMOX_TOKEN_SECRET = "CSI-TOKEN-SECRET-VALUE";

export const FAKE_KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: S0VZ\n";
/** What the credentials resource (resources/talosCredentials.ts) issues under mocks. */
export const FAKE_CREDENTIALS = {
  clientConfiguration: { caCertificate: "os-ca", clientCertificate: "crt", clientKey: "CLIENT-KEY-VALUE" },
  kubernetesClient: { caCertificate: "k8s-ca", clientCertificate: "kube-crt", clientKey: "KUBE-CLIENT-KEY-VALUE" },
  notAfter: {
    talosClient: "2027-06-01T00:00:00.000Z",
    kubernetesClient: "2027-06-01T00:00:00.000Z",
    osCa: "2036-06-01T00:00:00.000Z",
    kubernetesCa: "2036-06-01T00:00:00.000Z",
    etcdCa: "2036-06-01T00:00:00.000Z",
  },
};
export const FAKE_TALOSCONFIG = "context: demo\ncontexts:\n  demo:\n    key: S0VZ\n";

/**
 * Mocks that answer like the real providers in the fields the program reads, record every
 * registration and invoke with its arrival and completion order, and reject unknown invokes.
 * `latencyMs` delays chosen resources (`type::name`), resource types or tokens, so ordering is
 * caused, not accidental.
 */
export class RecordingMocks implements pulumi.runtime.Mocks {
  public readonly registrations: Registration[] = [];
  public readonly calls: InvokeCall[] = [];
  public readonly hookRuns: HookRun[] = [];
  private clock = 0;

  /**
   * @param latencyMs delay per resource type or invoke token
   * @param priorState the state an earlier run left, by `type::name`, for resources whose state
   *   depends on it (a Stash keeps its first value as `output`)
   */
  constructor(
    private readonly latencyMs: Record<string, number> = {},
    public readonly priorState: Map<string, Record<string, unknown>> = new Map(),
  ) {}

  /**
   * The fake cluster's etcd members, by IP. Set, `talos:cluster/getHealth` follows Talos's rule:
   * it fails unless every member is among the control-plane nodes it is given (siderolabs/talos
   * v1.13.9 pkg/cluster/check/etcd.go:94-127, EtcdControlPlaneNodesAssertion, run by the default
   * checks at default.go:154). Talos polls until its timeout; the mock fails at once.
   */
  public etcdMembers?: string[];

  /** The state each resource was given, by `type::name`: the prior state of a next run. */
  public readonly state = new Map<string, Record<string, unknown>>();

  async newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    const record = { type: args.type, name: args.name, inputs: args.inputs, provider: args.provider };
    return this.track(this.registrations, record, [`${args.type}::${args.name}`, args.type], () => {
      const state = this.stateFor(args);
      this.state.set(`${args.type}::${args.name}`, state);
      return { id: this.idFor(args), state };
    });
  }

  async call(args: pulumi.runtime.MockCallArgs): Promise<pulumi.runtime.MockCallResult> {
    const record = { token: args.token, inputs: args.inputs, provider: args.provider };
    return this.track(this.calls, record, [args.token], () => this.answer(args));
  }

  /** Records a request's arrival, waits its latency, answers it and records the completion. */
  private async track<T extends Timed, R>(
    log: T[],
    request: Omit<T, "arrived" | "arrivedAt">,
    latencyKeys: string[],
    answer: () => R,
  ): Promise<R> {
    const record = { ...request, arrived: this.clock++, arrivedAt: performance.now() } as T;
    log.push(record);
    await this.delay(latencyKeys);
    const result = answer();
    record.completed = this.clock++;
    record.completedAt = performance.now();
    return result;
  }

  /**
   * Runs a registration's before-hooks as the engine does before the provider's create or update
   * (pulumi/pulumi v3.248.0 pkg/resource/deploy/step.go:293-305 CreateStep, 925-940 UpdateStep):
   * before-create for a resource the prior state lacks, before-update when its inputs differ from
   * the prior state's (an unchanged resource gets no step and no hook). A hook's error is recorded;
   * the engine would fail the update there, while this run goes on so the test can report it.
   */
  async runBeforeHooks(req: RegisterRequest): Promise<void> {
    const key = `${req.getType()}::${req.getName()}`;
    const newInputs = unwrap(deserializeProperties(req.getObject())) as Record<string, unknown>;
    const prior = this.priorState.get(key);
    const oldInputs = prior ? Object.fromEntries(Object.keys(newInputs).map((k) => [k, prior[k]])) : undefined;
    if (oldInputs && JSON.stringify(oldInputs) === JSON.stringify(newInputs)) return;
    const kind = oldInputs ? "beforeUpdate" : "beforeCreate";
    const binding = req.getHooks();
    const names: string[] = binding ? (kind === "beforeCreate" ? binding.getBeforeCreateList() : binding.getBeforeUpdateList()) : [];
    for (const name of names) {
      const hook = HOOKS_BY_NAME.get(name);
      if (!hook) throw new Error(`mock engine: hook ${name} was never registered`);
      const run: HookRun = { hook: name, kind, resource: key, started: this.clock++ };
      this.hookRuns.push(run);
      enterHook(this);
      try {
        await hook.callback({ urn: "", id: "", name: req.getName(), type: req.getType(), newInputs, oldInputs, oldOutputs: prior });
      } catch (error) {
        run.error = error instanceof Error ? error.message : String(error);
      }
      run.finished = this.clock++;
    }
  }

  /** Registrations of one type, e.g. `proxmoxve:index/vmLegacy:VmLegacy`. */
  ofType(type: string): Registration[] {
    return this.registrations.filter((r) => r.type === type);
  }

  callsOf(token: string): InvokeCall[] {
    return this.calls.filter((c) => c.token === token);
  }

  /** The first key with a latency wins: `type::name` before `type`. */
  private async delay(keys: string[]): Promise<void> {
    const ms = keys.map((k) => this.latencyMs[k]).find((v) => v !== undefined);
    if (ms) await new Promise((resolve) => setTimeout(resolve, ms));
  }

  private idFor(args: pulumi.runtime.MockResourceArgs): string {
    const inputs = unwrap(args.inputs) as Record<string, unknown>;
    switch (args.type) {
      case "talos:imageFactory/schematic:Schematic":
        return hash(String(inputs.schematic));
      case "proxmoxve:download/file:File":
        return `${inputs.datastoreId}:${inputs.contentType}/${inputs.fileName}`;
      case "proxmoxve:index/vmLegacy:VmLegacy":
        return `${inputs.nodeName}/${inputs.vmId ?? "auto"}`;
      // bpg v0.111.1 fwprovider/access/resource_user_token.go:186: `<user>!<token name>`.
      case "proxmoxve:user/token:Token":
        return `${inputs.userId}!${inputs.tokenName}`;
      default:
        return `${args.name}-id`;
    }
  }

  private stateFor(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
    const inputs = args.inputs as Record<string, unknown>;
    switch (args.type) {
      case "talos:machine/secrets:Secrets":
        return {
          ...inputs,
          machineSecrets: {
            cluster: { id: "cluster-id", secret: "CLUSTER-SECRET-VALUE" },
            trustdinfo: { token: "t" },
            certs: {
              os: { cert: "os-ca", key: "OS-CA-KEY-VALUE" },
              k8s: { cert: "k8s-ca", key: "K8S-CA-KEY-VALUE" },
              etcd: { cert: "etcd-ca", key: "ETCD-CA-KEY-VALUE" },
            },
          },
          clientConfiguration: { caCertificate: "ca", clientCertificate: "crt", clientKey: "CLIENT-KEY-VALUE" },
        };
      case "talos:machine/configurationApply:ConfigurationApply":
        return {
          ...inputs,
          machineConfiguration: inputs.machineConfigurationInput,
          machineConfigurationHash: hash(JSON.stringify(unwrap(inputs.machineConfigurationInput)) ?? ""),
          resolvedApplyMode: "auto",
        };
      case "pulumi:index:Stash": {
        // The engine keeps a Stash's first input as its output until it is replaced.
        const prior = this.priorState.get(`${args.type}::${args.name}`);
        return { ...inputs, output: prior ? prior.output : inputs.input };
      }
      case "pulumi-nodejs:dynamic:Resource":
        return "renewBeforeMs" in inputs ? { ...inputs, ...FAKE_CREDENTIALS } : inputs;
      case "talos:cluster/kubeconfig:Kubeconfig":
        return { ...inputs, kubeconfigRaw: FAKE_KUBECONFIG };
      // The full token, `<user>!<name>=<secret>` (bpg v0.111.1 proxmox/access/user_token.go:40).
      case "proxmoxve:user/token:Token":
        return { ...inputs, value: `${inputs.userId}!${inputs.tokenName}=${FAKE_PROXMOX_TOKEN_SECRET}` };
      case "proxmoxve:index/vmLegacy:VmLegacy": {
        // Proxmox picks the next free ID when none is given.
        const vmId = inputs.vmId ?? 100 + (parseInt(hash(args.name).slice(0, 6), 16) % 900);
        return { ...inputs, vmId };
      }
      case "kubernetes:core/v1:Service": {
        const spec = inputs.spec as { ports: Record<string, unknown>[] };
        const ports = spec.ports.map((p) => ({ ...p, nodePort: p.nodePort ?? 31080 }));
        return { ...inputs, spec: { ...spec, ports } };
      }
      default:
        return inputs;
    }
  }

  /**
   * What `talos:cluster/getHealth` finds (terraform-provider-talos v0.11.0
   * talos_cluster_health_data_source.go:252-256): Talos's pre-boot-sequence checks, which include
   * "no diagnostics" (siderolabs/talos v1.13.0 pkg/cluster/check/default.go:182, diagnostics.go:58).
   * Only that check is modelled: the others pass in this fake.
   */
  private talosHealthProblems(inputs: HealthInputs): string[] {
    const ips = [...inputs.controlPlaneNodes, ...(inputs.workerNodes ?? [])].sort();
    const diagnostics = talosDiagnostics(this);
    if (diagnostics.length === 0) return [];
    return [`active diagnostics: ${ips.map((ip) => `${ip}: ${diagnostics.map((d) => d.message).join(", ")}`).join("; ")}`];
  }

  private answer(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const inputs = args.inputs as Record<string, unknown>;
    switch (args.token) {
      case "talos:imageFactory/getUrls:getUrls": {
        const base = `https://factory.talos.dev/image/${inputs.schematicId}/${inputs.talosVersion}`;
        return {
          ...inputs,
          id: "urls",
          urls: {
            iso: `${base}/${inputs.platform}-${inputs.architecture}.iso`,
            installer: `factory.talos.dev/${inputs.platform}-installer/${inputs.schematicId}:${inputs.talosVersion}`,
            diskImage: `${base}/${inputs.platform}-${inputs.architecture}.raw.zst`,
          },
        };
      }
      case "talos:machine/getConfiguration:getConfiguration":
        return {
          ...inputs,
          id: "machine-config",
          // Stands for the rendered config: it changes with every input that changes the real one.
          machineConfiguration:
            `# ${inputs.machineType} config for ${inputs.clusterName}, ` +
            `inputs ${hash(JSON.stringify({ ...unwrap(inputs) as object, machineSecrets: undefined }))}\n` +
            `machine:\n  token: secret\n`,
        };
      case "talos:client/getConfiguration:getConfiguration":
        return { ...inputs, id: "talosconfig", talosConfig: FAKE_TALOSCONFIG };
      case "talos:cluster/getHealth:getHealth": {
        this.etcdMembershipHolds(unwrap(inputs) as { controlPlaneNodes?: string[] });
        const problems = this.talosHealthProblems(unwrap(inputs) as HealthInputs);
        // `details`: what the SDK's invoke reports of a failed call (as gRPC carries a provider's error).
        const message = `cluster health check failed: ${problems.join("; ")}`;
        if (problems.length > 0) throw Object.assign(new Error(message), { details: message });
        return { ...inputs, id: "healthy" };
      }
      default:
        throw new Error(`mock: unknown invoke ${args.token}`);
    }
  }

  /** Talos's etcd membership assertion (see `etcdMembers`): throws when a member is not among the given control planes. */
  private etcdMembershipHolds(inputs: { controlPlaneNodes?: string[] }): void {
    const given = inputs.controlPlaneNodes ?? [];
    const strangers = (this.etcdMembers ?? []).filter((ip) => !given.includes(ip));
    if (strangers.length > 0) {
      throw new Error(`etcd members to be control plane nodes: etcd member ips ${JSON.stringify(this.etcdMembers)} are not subset of control plane node ips ${JSON.stringify(given)}`);
    }
  }
}

interface HealthInputs {
  controlPlaneNodes: string[];
  workerNodes?: string[];
}

/** Every document of every machine-config patch rendered so far (the configs the nodes run). */
function renderedPatchDocs(calls: InvokeCall[]): Record<string, any>[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  return calls
    .filter((c) => c.token === "talos:machine/getConfiguration:getConfiguration")
    .flatMap((c) => (unwrap(c.inputs.configPatches) as string[] | undefined) ?? [])
    .flatMap((patch) => YAML.parseAllDocuments(patch).map((d) => d.toJS() ?? {}));
}

/**
 * What the cluster looks like to Talos when a health check arrives, from what the program
 * registered and completed by then. A CNI runs when Talos deploys one (flannel or `custom` URLs
 * in the configs) or once a Cilium Helm release has completed, in this run or an earlier one.
 */
export function clusterView(mocks: RecordingMocks): { servingCertRotation: boolean; cniRunning: boolean } {
  const docs = renderedPatchDocs(mocks.calls);
  const rotation = docs.some((d) => String(d.machine?.kubelet?.extraArgs?.["rotate-server-certificates"]) === "true");
  const talosCni = docs.some((d) => ["flannel", "custom"].includes(d.cluster?.network?.cni?.name));
  const isCilium = (type: string, inputs: unknown) => type === "kubernetes:helm.sh/v3:Release" && (unwrap(inputs) as { chart?: string }).chart === "cilium";
  const cilium =
    mocks.registrations.some((r) => isCilium(r.type, r.inputs) && r.completed !== undefined) ||
    [...mocks.priorState].some(([key, state]) => isCilium(key.split("::")[0], state));
  return { servingCertRotation: rotation, cniRunning: talosCni || cilium };
}

/**
 * Talos's diagnostics as it raises them (siderolabs/talos v1.13.9
 * internal/app/machined/pkg/controllers/runtime/internal/diagnostics/kubelet_csr_not_approved.go:76,118,
 * diagnostic.go:45): `kubelet-csr` on every node while its kubelet serves no certificate and its
 * serving CSR is not approved. With `rotate-server-certificates` on, the approver approves it; the
 * approver's pod neither tolerates not-ready nodes nor uses the host network
 * (kubelet-serving-cert-approver v0.11.0 deploy/standalone-install.yaml:202-210), so it runs only
 * once a CNI does.
 */
export function talosDiagnostics(mocks: RecordingMocks): { id: string; message: string }[] {
  const view = clusterView(mocks);
  if (!view.servingCertRotation || view.cniRunning) return [];
  return [{ id: "kubelet-csr", message: "kubelet server certificate rotation is enabled, but CSR is not approved" }];
}

/** The value of an Output (tests run with preview=false, so every value is known). */
export function valueOf<T>(output: pulumi.Output<T> | T): Promise<T> {
  if (!pulumi.Output.isInstance(output)) return Promise.resolve(output as T);
  return new Promise((resolve) => (output as pulumi.Output<T>).apply((v) => resolve(v as T)));
}

/**
 * Waits until every registration and invoke the program started has finished, and stops the SDK's
 * callback server (public `disconnect`; the mock monitor stays installed for the next run).
 */
export function settle(): Promise<void> {
  return pulumi.runtime.disconnect();
}

/** The parts of a RegisterResource request (the SDK's gRPC message) the mock engine reads. */
export interface RegisterRequest {
  getType(): string;
  getName(): string;
  getObject(): Parameters<typeof deserializeProperties>[0];
  getHooks(): { getBeforeCreateList(): string[]; getBeforeUpdateList(): string[] } | undefined;
}

let hookEngine: RecordingMocks | undefined;
const enterHook = (mocks: RecordingMocks) => {
  hookEngine = mocks;
};

/** The mock engine whose hook is running (its view of the cluster is the one a fake API should show). */
export function mocksRunningHooks(): RecordingMocks {
  if (!hookEngine) throw new Error("no hook runs under the mock engine");
  return hookEngine;
}

/** Every ResourceHook the program created, by name: the monitor itself only ever sees names. */
const HOOKS_BY_NAME = new Map<string, pulumi.ResourceHook>();

/** Records hooks as the SDK registers them (runtime/resource.js registerResourceHook, called by the ResourceHook constructor). */
function recordResourceHooks(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runtime = require("@pulumi/pulumi/runtime/resource") as { registerResourceHook(hook: pulumi.ResourceHook): Promise<void>; __recorded?: true };
  if (runtime.__recorded) return;
  const register = runtime.registerResourceHook;
  runtime.registerResourceHook = (hook) => {
    HOOKS_BY_NAME.set(hook.name, hook);
    return register(hook);
  };
  runtime.__recorded = true;
}

/** Sets up the mock runtime; call before constructing anything. */
export function useMocks(mocks: RecordingMocks, stack = "test"): void {
  // setMocks does all its work before its first await.
  void pulumi.runtime.setMocks(mocks, "talos-proxmox", stack, false);
  acknowledgeResourceHooks();
}

/**
 * Pulumi's mock monitor has no `registerResourceHook` (a documented limitation, pulumi/docs#16461),
 * so registering a resource with hooks would wait forever. The engine only needs the hook's name,
 * which the registration carries: acknowledge it on the monitor the public `getMonitor` returns.
 * Hooks run in the engine; under mocks, `RecordingMocks.runBeforeHooks` runs the before-hooks when a
 * test asks for it (tests/helpers/program.ts `runHooks`); otherwise tests call the hook functions directly.
 */
export function acknowledgeResourceHooks(): void {
  const monitor = pulumi.runtime.getMonitor() as { registerResourceHook?: unknown } | undefined;
  if (!monitor) throw new Error("acknowledgeResourceHooks: call pulumi.runtime.setMocks first");
  recordResourceHooks();
  monitor.registerResourceHook ??= (_req: unknown, callback: (err: null, resp: object) => void) => callback(null, {});
}
