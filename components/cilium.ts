// Types from the package; classes from their own modules: the package's index loads every API
// group (about 120 modules, 40 ms of each start) and these use three (docs/performance.md).
import type * as k8s from "@pulumi/kubernetes";
import { Release } from "@pulumi/kubernetes/helm/v3/release";
import * as pulumi from "@pulumi/pulumi";
import { CILIUM_CHART_REPO, CniSpec } from "../config/domain";

type CiliumSpec = Extract<CniSpec, { name: "cilium" }>;

/**
 * Cilium without kube-proxy as Talos documents it ("Deploying Cilium CNI"): Kubernetes IPAM, the
 * kube-proxy replacement reaching the API server through KubePrism on localhost:7445 (enabled by
 * default since Talos 1.6), the cgroup v2 mount Talos already provides, and the agent's
 * capabilities without SYS_MODULE, which Talos never grants to a pod.
 */
export const TALOS_CILIUM_VALUES = {
  ipam: { mode: "kubernetes" },
  kubeProxyReplacement: true,
  k8sServiceHost: "localhost",
  k8sServicePort: 7445,
  cgroup: { autoMount: { enabled: false }, hostRoot: "/sys/fs/cgroup" },
  securityContext: {
    capabilities: {
      ciliumAgent: ["CHOWN", "KILL", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "SYS_ADMIN", "SYS_RESOURCE", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"],
      cleanCiliumState: ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"],
    },
  },
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** `over` merged into `base`: objects key by key, anything else (lists included) replaced. Pure. */
export function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = isObject(out[key]) && isObject(value) ? mergeValues(out[key] as Record<string, unknown>, value) : value;
  }
  return out;
}

/** The chart's values: Talos's, Hubble when asked for, then the user's `cilium.values`. Pure. */
export function ciliumValues(cilium: CiliumSpec): Record<string, unknown> {
  const hubble = { hubble: { enabled: cilium.hubble, relay: { enabled: cilium.hubble }, ui: { enabled: cilium.hubble } } };
  return mergeValues(mergeValues(TALOS_CILIUM_VALUES, hubble), cilium.values);
}

/** The Helm release of Cilium in kube-system: a version change in the stack is a `helm upgrade`. Pure. */
export function ciliumReleaseArgs(cilium: CiliumSpec): k8s.helm.v3.ReleaseArgs {
  return {
    name: "cilium",
    chart: "cilium",
    version: cilium.version,
    repositoryOpts: { repo: CILIUM_CHART_REPO },
    namespace: "kube-system",
    values: ciliumValues(cilium),
    // Wait until the agents and the operator run: workloads come after it.
    skipAwait: false,
    timeout: 600,
  };
}

/** Installs Cilium through `provider` (see ciliumReleaseArgs). */
export function installCilium(name: string, cilium: CiliumSpec, provider: k8s.Provider, parent: pulumi.Resource): k8s.helm.v3.Release {
  return new Release(`${name}-cilium`, ciliumReleaseArgs(cilium), { parent, provider });
}
