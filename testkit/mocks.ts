import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

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
  private clock = 0;

  /**
   * @param latencyMs delay per resource type or invoke token
   * @param priorState the state an earlier run left, by `type::name`, for resources whose state
   *   depends on it (a Stash keeps its first value as `output`)
   */
  constructor(
    private readonly latencyMs: Record<string, number> = {},
    private readonly priorState: Map<string, Record<string, unknown>> = new Map(),
  ) {}

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
      case "talos:cluster/getHealth:getHealth":
        return { ...inputs, id: "healthy" };
      default:
        throw new Error(`mock: unknown invoke ${args.token}`);
    }
  }
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
 * (Hooks run in the engine, never under mocks; tests call the hook functions directly.)
 */
export function acknowledgeResourceHooks(): void {
  const monitor = pulumi.runtime.getMonitor() as { registerResourceHook?: unknown } | undefined;
  if (!monitor) throw new Error("acknowledgeResourceHooks: call pulumi.runtime.setMocks first");
  monitor.registerResourceHook ??= (_req: unknown, callback: (err: null, resp: object) => void) => callback(null, {});
}
