import { unwrap } from "../testkit/mocks";
import { PROXMOX_CONFIG, runProgram, stackConfig } from "./helpers/program";

/** Same config, same program: the registrations, their names and inputs, and the outputs. */
describe("determinism and redeploy", () => {
  const config = { ...stackConfig("dev"), ...PROXMOX_CONFIG };
  const snapshot = (run: Awaited<ReturnType<typeof runProgram>>) => ({
    resources: run.mocks.registrations
      .map((r) => ({ type: r.type, name: r.name, provider: r.provider, inputs: unwrap(r.inputs) }))
      .sort((a, b) => `${a.type}/${a.name}`.localeCompare(`${b.type}/${b.name}`)),
    invokes: run.mocks.calls
      .map((c) => ({ token: c.token, inputs: unwrap(c.inputs) }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    outputs: run.values,
  });

  test("two runs of the same config register identical resources, invokes and outputs", async () => {
    const first = snapshot(await runProgram(config));
    const second = snapshot(await runProgram(config));
    expect(second).toEqual(first);
    expect(first.resources.length).toBeGreaterThan(15);
  });

  test("the inputs that make a redeploy converge: fixed MACs and VM IDs, stop on destroy, no reset", async () => {
    const run = await runProgram(config);
    const vms = run.mocks.ofType("proxmoxve:index/vmLegacy:VmLegacy").map((r) => unwrap(r.inputs) as any); // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const vm of vms) {
      expect(vm.networkDevices[0].macAddress).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){5}$/);
      expect(vm.vmId).toBeGreaterThanOrEqual(1011);
      expect(vm).toMatchObject({ stopOnDestroy: true, purgeOnDestroy: true });
    }
    for (const apply of run.mocks.ofType("talos:machine/configurationApply:ConfigurationApply")) {
      expect(unwrap(apply.inputs)).toMatchObject({ onDestroy: { reset: false } });
    }
    const [k8s] = run.mocks.ofType("pulumi:providers:kubernetes");
    expect(String(k8s.inputs.deleteUnreachable)).toBe("true");
  });

  test("changing talosVersion later never replaces the cluster's secrets", async () => {
    const run = await runProgram(config);
    expect(run.requests.get("talos:machine/secrets:Secrets::cluster-secrets")?.ignoreChanges).toEqual([
      "talosVersion",
    ]);
  });

  test("fixed-name Kubernetes objects are deleted before they are replaced", async () => {
    const run = await runProgram(config);
    for (const key of [
      "kubernetes:apps/v1:Deployment::nginx-deployment",
      "kubernetes:core/v1:Service::nginx-service",
    ]) {
      expect([key, run.requests.get(key)?.deleteBeforeReplace]).toEqual([key, true]);
    }
  });
});
