import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { memberProvider } from "../resources/talosMember";
import { rebootsProvider } from "../resources/talosReboots";
import { taskModulePath } from "../resources/taskModule";
import { upgradeProvider } from "../resources/talosUpgrade";
import { ROOT } from "./helpers/program";

/**
 * A dynamic provider runs in Pulumi's provider host from the text serialized into the state, not
 * from this program: serialize ours the way `pulumi.dynamic.Resource` does, check what they
 * capture, and run them in a plain Node process outside the repository.
 */
async function serialized(provider: pulumi.dynamic.ResourceProvider): Promise<string> {
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
}

test("they capture only small pure functions and the path of the compiled tasks, which they require at run time", async () => {
  for (const text of [await serialized(upgradeProvider), await serialized(memberProvider), await serialized(rebootsProvider)]) {
    expect(text.length).toBeLessThan(10_000);
    expect(text.match(/require\([^)]*\)/g)?.every((r) => r === "require(TASK_MODULE)")).toBe(true);
    expect(text).toContain(`TASK_MODULE: ${JSON.stringify(taskModulePath())}`);
  }
});

test("they run from their serialized text in a fresh Node process: no node is reached by create or check", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-proxmox-provider-"));
  try {
    fs.writeFileSync(path.join(dir, "upgrade.js"), await serialized(upgradeProvider));
    fs.writeFileSync(path.join(dir, "member.js"), await serialized(memberProvider));
    const script = `
      const upgrade = require("./upgrade.js").handler();
      const member = require("./member.js").handler();
      const base = { nodes: [{ name: "cp-1", ip: "192.0.2.1", role: "controlplane" }], image: "x/y:v1.13.9",
        targetVersion: "v1.13.9", workerBatchSize: 1, cni: "flannel", plan: [], clientConfiguration: { caCertificate: "", clientCertificate: "", clientKey: "" } };
      (async () => {
        const created = await upgrade.create(base);
        const checked = await upgrade.check(base, { ...base, cni: "cilium" });
        const skip = await upgrade.check({ ...base, kubernetesVersion: "1.34.1" }, { ...base, kubernetesVersion: "1.36.3" });
        const diff = await member.diff("id", { vm: "pve/1", node: base.nodes[0] }, { vm: "pve2/1", node: base.nodes[0] });
        const failed = await upgrade.update("id", base, { ...base, image: "x/y:v1.13.10", targetVersion: "v1.13.10" }).catch((e) => e.message);
        console.log(JSON.stringify({ versions: created.outs.versions, failures: checked.failures.map((f) => f.property), skip: skip.failures.map((f) => f.reason), replaces: diff.replaces, failed }));
      })();`;
    const out = execFileSync(process.execPath, ["-e", script], { cwd: dir, encoding: "utf8" });
    expect(JSON.parse(out)).toEqual({
      versions: { "cp-1": "v1.13.9" },
      failures: ["cni"],
      skip: [expect.stringMatching(/^kubernetesVersion: 1.34.1 → 1.36.3 is refused: a Kubernetes upgrade goes one minor version at a time/)],
      replaces: ["vm"],
      // The update loaded the compiled tasks and got as far as the (empty) credentials.
      failed: expect.stringMatching(/caCertificate is empty/),
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the task module they load is the compiled one in dist/", () => {
  expect(taskModulePath()).toBe(path.join(ROOT, "dist", "engines", "tasks.js"));
});
