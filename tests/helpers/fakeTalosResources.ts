/**
 * What a fake Talos node renders from its machine config, as COSI resources: the config itself,
 * the control-plane static pod configs and the bootstrap manifests (kube-proxy, CoreDNS). An
 * applied config re-renders them, bumping the version of each resource whose spec changed, as
 * Talos's controllers do. Secrets in the config are fake.
 */
import { parseAllDocuments, stringify } from "yaml";
import { at } from "../../config/userPatches";

export interface RenderedResource {
  namespace: string;
  type: string;
  id: string;
  version: number;
  spec: unknown;
}

/** `extraArgs` a test sets per component, under the config key Talos reads them from. */
export type FakeExtraArgs = Partial<Record<"apiServer" | "controllerManager" | "scheduler" | "kubelet", Record<string, string>>>;

/** A node's initial machine config on Kubernetes `version`: every image as `talosctl gen config` writes it, plus any `extraArgs`. */
export function generatedConfig(name: string, role: "controlplane" | "worker", version: string, kubeProxy = true, extraArgs: FakeExtraArgs = {}): string {
  const cluster =
    role === "controlplane"
      ? {
          apiServer: { image: `registry.k8s.io/kube-apiserver:v${version}`, ...args(extraArgs.apiServer) },
          controllerManager: { image: `registry.k8s.io/kube-controller-manager:v${version}`, ...args(extraArgs.controllerManager) },
          scheduler: { image: `registry.k8s.io/kube-scheduler:v${version}`, ...args(extraArgs.scheduler) },
          proxy: kubeProxy ? { image: `registry.k8s.io/kube-proxy:v${version}` } : { disabled: true },
          secretboxEncryptionSecret: "ZmFrZS1zZWNyZXQ=",
        }
      : { token: "fake.token" };
  const v1 = { version: "v1alpha1", machine: { type: role, token: "fake.machinetoken", kubelet: { image: `ghcr.io/siderolabs/kubelet:v${version}`, ...args(extraArgs.kubelet) } }, cluster };
  return `${stringify(v1)}---\n${stringify({ apiVersion: "v1alpha1", kind: "HostnameConfig", hostname: name, auto: "off" })}`;
}

const args = (set: Record<string, string> | undefined) => (set ? { extraArgs: set } : {});

/**
 * A component's command-line flags as Talos renders them: its own defaults, then `extraArgs` as
 * `--key=value` (siderolabs/talos v1.13.9 pkg/argsbuilder; the apiserver enables NodeRestriction,
 * internal/app/machined/pkg/controllers/k8s/control_plane_static_pod.go:363).
 */
function flags(defaults: Record<string, string>, extra: unknown): string[] {
  const merged = { ...defaults, ...((extra as Record<string, string> | undefined) ?? {}) };
  return Object.keys(merged)
    .sort()
    .map((key) => `--${key}=${merged[key]}`);
}

const DEFAULT_FLAGS: Record<string, Record<string, string>> = {
  "kube-apiserver": { "enable-admission-plugins": "NodeRestriction", "allow-privileged": "true" },
  "kube-controller-manager": { "use-service-account-credentials": "true" },
  "kube-scheduler": { "bind-address": "127.0.0.1" },
  kubelet: { "rotate-server-certificates": "true" },
};

/**
 * The static pod Talos writes for a control-plane component: COSI `k8s`/StaticPods, spec = the pod
 * object (pkg/machinery/resources/k8s/static_pod.go:17,30-32), command = binary + flags.
 */
function staticPod(id: string, image: unknown, extra: unknown): object {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: id, namespace: "kube-system" }, spec: { containers: [{ name: id, image, command: [`/usr/local/bin/${id}`, ...flags(DEFAULT_FLAGS[id], extra)] }] } };
}

/** The resources a config renders on a node of `role`, without versions. */
export function renderResources(config: string, role: "controlplane" | "worker"): Omit<RenderedResource, "version">[] {
  const v1 = parseAllDocuments(config).map((d) => d.toJS() as unknown).find((d) => at(d, "version") === "v1alpha1");
  const out: Omit<RenderedResource, "version">[] = [{ namespace: "config", type: "MachineConfigs.config.talos.dev", id: "v1alpha1", spec: config }];
  // KubeletSpec: image and args (pkg/machinery/resources/k8s/kubelet_spec.go:27-28).
  const kubeletArgs = flags(DEFAULT_FLAGS.kubelet, at(v1, "machine", "kubelet", "extraArgs"));
  out.push({ namespace: "k8s", type: "KubeletSpecs.kubernetes.talos.dev", id: "kubelet", spec: { image: at(v1, "machine", "kubelet", "image"), args: kubeletArgs } });
  if (role !== "controlplane") return out;
  const staticPods: [string, string, string][] = [
    ["APIServerConfigs", "kube-apiserver", "apiServer"],
    ["ControllerManagerConfigs", "kube-controller-manager", "controllerManager"],
    ["SchedulerConfigs", "kube-scheduler", "scheduler"],
  ];
  for (const [type, id, key] of staticPods) out.push({ namespace: "controlplane", type: `${type}.kubernetes.talos.dev`, id, spec: { image: at(v1, "cluster", key, "image") } });
  for (const [, id, key] of staticPods) out.push({ namespace: "k8s", type: "StaticPods.kubernetes.talos.dev", id, spec: staticPod(id, at(v1, "cluster", key, "image"), at(v1, "cluster", key, "extraArgs")) });
  const proxy = at(v1, "cluster", "proxy", "image") as string | undefined;
  const manifests = (id: string, spec: unknown[]) => ({ namespace: "controlplane", type: "Manifests.kubernetes.talos.dev", id, spec });
  if (proxy && at(v1, "cluster", "proxy", "disabled") !== true) {
    out.push(
      manifests("10-kube-proxy", [
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "kube-proxy", namespace: "kube-system" } },
        { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "kube-proxy", namespace: "kube-system" }, spec: { template: { spec: { containers: [{ name: "kube-proxy", image: proxy }] } } } },
      ]),
    );
  }
  out.push(
    manifests("11-core-dns", [
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "system:coredns" }, rules: [] },
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "coredns", namespace: "kube-system" }, spec: { replicas: 2, template: { spec: { containers: [{ name: "coredns", image: "registry.k8s.io/coredns/coredns:v1.12.4" }] } } } },
    ]),
  );
  return out;
}

/** Re-renders `config` over `current`: unchanged specs keep their version, changed and new ones get the next. */
export function rerender(current: RenderedResource[], config: string, role: "controlplane" | "worker", nextVersion: () => number): { resources: RenderedResource[]; changed: RenderedResource[] } {
  const changed: RenderedResource[] = [];
  const resources = renderResources(config, role).map((r) => {
    const old = current.find((c) => c.type === r.type && c.id === r.id);
    if (old && JSON.stringify(old.spec) === JSON.stringify(r.spec)) return old;
    const updated = { ...r, version: nextVersion() };
    changed.push(updated);
    return updated;
  });
  return { resources, changed };
}
