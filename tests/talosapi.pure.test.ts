// Pure parts of the room: tar reading, version ordering, rollout planning, image tags.
import { compareTalosVersions, hasLifecycleApi, readTar, readTarGz, sameVersion } from "../talosapi";
import { describePlan, imageTag, planRollout, type NodeRef } from "../engines";
import { tar, tarGz } from "./helpers/tarGz";

describe("tar reader", () => {
  test("reads Go-style archives, terminated or not", () => {
    const entries = [
      { name: "a.txt", content: "first" },
      { name: "kubeconfig", content: "x".repeat(700) },
    ];
    for (const unterminated of [false, true]) {
      const files = readTar(tar(entries, { unterminated }));
      expect(files.map((f) => [f.name, f.content.toString()])).toEqual(entries.map((e) => [e.name, e.content]));
    }
    expect(readTarGz(tarGz([{ name: "kubeconfig", content: "apiVersion: v1\n" }]))[0].content.toString()).toBe("apiVersion: v1\n");
  });

  test("honours a PAX path record", () => {
    const long = `${"d/".repeat(60)}kubeconfig`;
    expect(readTar(tar([{ name: long, content: "k", pax: true }])).map((f) => f.name)).toEqual([long]);
  });

  test("a truncated entry is an error, not a short file", () => {
    const archive = tar([{ name: "kubeconfig", content: "x".repeat(1000) }], { unterminated: true });
    expect(() => readTar(archive.subarray(0, 900))).toThrow("tar archive is truncated");
  });
});

describe("versions", () => {
  test("semver order with pre-releases", () => {
    const sorted = ["v1.13.0", "v1.12.11", "v1.13.0-alpha.10", "v1.13.0-alpha.2", "v1.13.0-beta.0", "v1.13.9", "1.14.0"].sort(compareTalosVersions);
    expect(sorted).toEqual(["v1.12.11", "v1.13.0-alpha.2", "v1.13.0-alpha.10", "v1.13.0-beta.0", "v1.13.0", "v1.13.9", "1.14.0"]);
    expect(() => compareTalosVersions("latest", "v1.13.0")).toThrow("not a Talos version tag: latest");
  });

  test("the lifecycle API starts after 1.13.0-alpha.2, as in talosctl", () => {
    expect(["v1.12.11", "v1.13.0-alpha.2", "v1.13.0-alpha.3", "v1.13.0", "v1.14.1"].map(hasLifecycleApi)).toEqual([false, false, true, true, true]);
    expect(sameVersion("v1.13.9", "1.13.9")).toBe(true);
  });

  test("image tags", () => {
    expect(imageTag("factory.talos.dev/installer/abc:v1.13.9")).toBe("v1.13.9");
    expect(imageTag("registry:5000/installer:v1.13.9@sha256:00")).toBe("v1.13.9");
    expect(imageTag("registry:5000/installer@sha256:00")).toBeUndefined();
  });
});

describe("planRollout", () => {
  const nodes: NodeRef[] = [
    { name: "w-1", ip: "192.0.2.21", role: "worker" },
    { name: "cp-1", ip: "192.0.2.11", role: "controlplane" },
    { name: "w-2", ip: "192.0.2.22", role: "worker" },
    { name: "cp-2", ip: "192.0.2.12", role: "controlplane" },
    { name: "w-3", ip: "192.0.2.23", role: "worker" },
    { name: "cp-3", ip: "192.0.2.13", role: "controlplane" },
  ];

  test("control planes one by one, then workers in batches; nodes at the target are left out", () => {
    const versions = { "cp-1": "v1.12.11", "cp-2": "v1.13.9", "cp-3": "v1.12.11", "w-1": "v1.12.11", "w-2": "v1.12.11" };
    const plan = planRollout(nodes, versions, "v1.13.9", 2);
    expect(plan.steps.map((s) => [s.role, s.nodes.map((n) => n.name)])).toEqual([
      ["controlplane", ["cp-1"]],
      ["controlplane", ["cp-3"]],
      ["worker", ["w-1", "w-2"]],
      ["worker", ["w-3"]],
    ]);
    expect(plan.upToDate.map((n) => n.name)).toEqual(["cp-2"]);
    expect(describePlan(plan)).toEqual([
      "1. cp-1 (controlplane) v1.12.11 → v1.13.9",
      "2. cp-3 (controlplane) v1.12.11 → v1.13.9",
      "3. w-1 (worker) v1.12.11 → v1.13.9, w-2 (worker) v1.12.11 → v1.13.9",
      "4. w-3 (worker) unknown → v1.13.9",
    ]);
  });

  test("refuses a bad batch size and duplicate names", () => {
    expect(() => planRollout(nodes, {}, "v1.13.9", 0)).toThrow("worker batch size must be a positive integer, got 0");
    expect(() => planRollout([...nodes, nodes[0]], {}, "v1.13.9")).toThrow("node w-1 is listed twice");
  });
});
