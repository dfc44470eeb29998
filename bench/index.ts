import { execFileSync } from "node:child_process";
import * as path from "node:path";

/**
 * `npm run bench`: figures measured under Pulumi's mock runtime (no Proxmox, no Talos):
 * 1. program evaluation time and peak memory for 3, 30 and 100 nodes, and its ratio to an empty Pulumi
 *    program in the same child process (same ts-node start-up, same mocks);
 * 2. the deployment's critical path with simulated per-step latencies, next to the ideal chain
 *    (one of each stage) and the serial sum;
 * 3. TypeScript start-up the way `pulumi up` runs it, with and without type-checking;
 * 4. a rolling Talos upgrade's critical path against its floor, with simulated operation latencies.
 */

/** Simulated latency per deployment stage (ms), roughly proportional to real ones. */
const STAGES: [string, string, number][] = [
  ["ISO download", "proxmoxve:download/file:File", 1500],
  ["VM create", "proxmoxve:index/vmLegacy:VmLegacy", 800],
  ["config apply + install", "talos:machine/configurationApply:ConfigurationApply", 1200],
  ["bootstrap", "talos:machine/bootstrap:Bootstrap", 500],
  // The health check runs in the health gate's hook, before the gate is created.
  ["health", "pulumi:index:Stash::cluster-health", 1000],
  ["kubeconfig", "talos:cluster/kubeconfig:Kubeconfig", 300],
  ["deployment", "kubernetes:apps/v1:Deployment", 600],
];
const HOSTS = 3;
const TARGET_EVAL_MS_100 = 5000;
const TARGET_PATH_RATIO = 1.05;

const here = __dirname;
const node = (script: string, args: string[]) =>
  execFileSync(process.execPath, [path.join(here, "run.js"), path.join(here, script), ...args], { encoding: "utf8" });

interface Evaluation {
  ms: number;
  /** From the child's start: node, ts-node transpiling, module loading and the run. */
  processMs: number;
  pathMs: number;
  peakRssMb: number;
  heapMb: number;
  registrations: number;
  invokes: number;
}

/** One child run: `nodes` nodes of our program, or "empty" for an empty Pulumi program. */
function evaluate(nodes: number | "empty", latency: Record<string, number> = {}): Evaluation {
  return JSON.parse(node("evaluate.ts", [String(nodes), JSON.stringify(latency)])) as Evaluation;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);
const verdict = (ok: boolean) => (ok ? "meets target" : "MISSES target");

/** Evaluation against an empty Pulumi program (same child, harness, ts-node and mocks): ratio targets. */
const TARGET_EMPTY_RATIO: Record<number, number> = { 3: 1.4, 100: 2.5 };
const RUNS = 3;

/** Each field's median over RUNS fresh children, the runs interleaved with the other sizes'. */
function medianEvaluations(sizes: (number | "empty")[]): Map<number | "empty", Evaluation> {
  const runs = new Map(sizes.map((n) => [n, [] as Evaluation[]]));
  for (let i = 0; i < RUNS; i++) for (const n of sizes) runs.get(n)!.push(evaluate(n));
  const medianOf = (list: Evaluation[]) =>
    Object.fromEntries(Object.keys(list[0]).map((k) => [k, median(list.map((e) => e[k as keyof Evaluation]))]));
  return new Map([...runs].map(([n, list]) => [n, medianOf(list) as unknown as Evaluation]));
}

function evaluationFigures(): void {
  console.log(`1. Program evaluation under mocks (fresh process each, median of ${RUNS})`);
  console.log("   nodes  resources  invokes  run ms  process ms  peak RSS MiB  heap MiB  process / empty program");
  const figures = medianEvaluations(["empty", 3, 30, 100]);
  const empty = figures.get("empty")!;
  for (const [n, e] of figures) {
    const ratio = e.processMs / empty.processMs;
    const target = typeof n === "number" ? TARGET_EMPTY_RATIO[n] : undefined;
    console.log(
      `   ${String(n).padStart(5)}  ${String(e.registrations).padStart(9)}  ${String(e.invokes).padStart(7)}  ` +
        `${fmt(e.ms).padStart(6)}  ${fmt(e.processMs).padStart(10)}  ${fmt(e.peakRssMb).padStart(12)}  ` +
        `${fmt(e.heapMb).padStart(8)}  ${fmt(ratio, 2).padStart(22)}` +
        (target ? `   target <= ${target}: ${verdict(ratio <= target)}` : "") +
        (n === 100 ? `; run < ${TARGET_EVAL_MS_100} ms: ${verdict(e.ms < TARGET_EVAL_MS_100)}` : ""),
    );
  }
  console.log("   process ms: from the child's start (node, ts-node via bench/run.js, loading, run) to all settled;");
  console.log("   the empty program is the same child, harness and mocks with a program that registers nothing.");
}

function criticalPathFigures(): void {
  const latency = Object.fromEntries(STAGES.map(([, key, ms]) => [key, ms]));
  const ideal = STAGES.reduce((sum, [, , ms]) => sum + ms, 0);
  console.log("\n2. Deployment critical path under mocks, simulated latencies (ms):");
  console.log(`   ${STAGES.map(([label, , ms]) => `${label} ${ms}`).join(", ")}`);
  console.log(`   ideal chain (one of each stage) = ${ideal} ms`);
  console.log("   nodes  measured ms  serial sum ms  measured/ideal  serial/measured");
  for (const n of [3, 100]) {
    const perNode = latency["proxmoxve:index/vmLegacy:VmLegacy"] + latency["talos:machine/configurationApply:ConfigurationApply"];
    const serial = ideal + (Math.min(n, HOSTS) - 1) * latency["proxmoxve:download/file:File"] + (n - 1) * perNode;
    const { pathMs } = evaluate(n, latency);
    const ratio = pathMs / ideal;
    console.log(
      `   ${String(n).padStart(5)}  ${fmt(pathMs).padStart(11)}  ${String(serial).padStart(13)}  ` +
        `${fmt(ratio, 3).padStart(14)}  ${fmt(serial / pathMs, 1).padStart(15)}` +
        `   target <= ${TARGET_PATH_RATIO}: ${verdict(ratio <= TARGET_PATH_RATIO)}`,
    );
  }
}

function startupFigures(): void {
  console.log("\n3. Start-up as `pulumi up` runs it (vendored ts-node 7, 3 nodes, to all registered; median of 3)");
  const timeOf = (transpileOnly: boolean, cache: boolean) =>
    median(
      [1, 2, 3].map((): number => {
        const out = execFileSync(process.execPath, [path.join(here, "startup.js"), String(transpileOnly)], {
          encoding: "utf8",
          env: { ...process.env, TS_NODE_CACHE: String(cache) },
        });
        return (JSON.parse(out) as { ms: number }).ms;
      }),
    );
  // Cold: ts-node's compile cache is off, as after every code change. Warm: unchanged code.
  const rows: [string, boolean][] = [
    ["type-checked (Pulumi's default without noCheck)", false],
    ["transpile only (this project's tsconfig noCheck)", true],
  ];
  console.log("   mode                                               cold ms  warm ms");
  const cold: number[] = [];
  for (const [label, transpileOnly] of rows) {
    const c = timeOf(transpileOnly, false);
    timeOf(transpileOnly, true); // prime the cache
    const w = timeOf(transpileOnly, true);
    cold.push(c);
    console.log(`   ${label.padEnd(50)} ${fmt(c).padStart(7)}  ${fmt(w).padStart(7)}`);
  }
  console.log(`   cold start speed-up of transpile only: ${fmt(cold[0] / cold[1], 1)}x`);
}

/** A rollout child script's measured time against its floor, at 3 nodes and at 30 (batches of 1 and 5). */
function rolloutTable(title: string, floor: string, script: string): void {
  console.log(`\n${title}`);
  console.log(`   floor = ${floor}`);
  console.log("   nodes  batch  measured ms  floor ms  measured/floor");
  for (const [n, batch] of [
    [3, 1],
    [30, 1],
    [30, 5],
  ]) {
    const { ms, floorMs } = JSON.parse(node(script, [String(n), String(batch)])) as { ms: number; floorMs: number };
    const ratio = ms / floorMs;
    console.log(
      `   ${String(n).padStart(5)}  ${String(batch).padStart(5)}  ${fmt(ms).padStart(11)}  ${String(floorMs).padStart(8)}  ` +
        `${fmt(ratio, 3).padStart(14)}   target <= ${TARGET_PATH_RATIO}: ${verdict(ratio <= TARGET_PATH_RATIO)}`,
    );
  }
}

const SECTIONS: (() => void)[] = [
  evaluationFigures,
  criticalPathFigures,
  startupFigures,
  () =>
    rolloutTable(
      "4. Rolling upgrade (talosapi upgradeCluster over in-memory operations with simulated latencies, bench/rollout.ts)",
      "control planes in series (each with its etcd gate and check), then worker batches, plus one version read before and after",
      "rollout.ts",
    ),
  () =>
    rolloutTable(
      "5. Rolling Kubernetes upgrade (talosapi upgradeKubernetes over in-memory operations, bench/kubernetesRollout.ts)",
      "pulls on every node together, each component across the control planes in series, kube-proxy, kubelet steps, manifests",
      "kubernetesRollout.ts",
    ),
];

// `npm run bench -- 1 3` runs sections 1 and 3 only; no argument runs them all.
const chosen = process.argv.slice(2).map(Number);
console.log("talos-proxmox benchmark: measured under Pulumi's mock runtime, not against Proxmox.\n");
SECTIONS.forEach((section, i) => {
  if (chosen.length === 0 || chosen.includes(i + 1)) section();
});
