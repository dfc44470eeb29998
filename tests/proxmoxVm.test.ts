import type { VmLegacyArgs } from "@muhlba91/pulumi-proxmoxve";
import { VmLegacy } from "@muhlba91/pulumi-proxmoxve/vmLegacy";
import * as pulumi from "@pulumi/pulumi";
import { vmArgs, vmOptions } from "../components/talosVm";
import { validateConfig } from "../config/validate";
import { ProxmoxVm } from "../sdk/proxmox/vm";
import { valueOf } from "../testkit/mocks";
import { base, talosVmArgs } from "./helpers/configCases";
import { runProgram } from "./helpers/program";

const spec = validateConfig({ ...base(), vmIdBase: 1011 }).spec;
const args = vmArgs(talosVmArgs(spec, 0));

type VmClass = new (name: string, args: VmLegacyArgs, opts: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** Registers one VM of `vmClass` under a component, with the options TalosVm gives its VM. */
async function register(vmClass: VmClass) {
  let vm: pulumi.CustomResource | undefined;
  const run = await runProgram({}, {
    program: () => {
      const parent = new pulumi.ComponentResource("talos-proxmox:vm:TalosVm", "node", {});
      vm = new vmClass("node", args, vmOptions({ node: spec.nodes[0], legacyName: "demo" } as Parameters<typeof vmOptions>[0], parent));
      return {};
    },
  });
  const key = "proxmoxve:index/vmLegacy:VmLegacy::node";
  return { vm: vm!, request: run.requests.get(key), inputs: run.mocks.registrations.find((r) => `${r.type}::${r.name}` === key)?.inputs };
}

describe("ProxmoxVm: the provider's VmLegacy with only the outputs the project reads", () => {
  test("tells the engine exactly what the generated VmLegacy tells it (type, inputs, options, plugin version and URL)", async () => {
    const lean = await register(ProxmoxVm as VmClass);
    const generated = await register(VmLegacy as unknown as VmClass);
    expect(lean.request).toBeDefined();
    expect(lean.request).toEqual(generated.request);
    expect(lean.inputs).toEqual(generated.inputs);
    expect(lean.request!.otherFields).toMatchObject({ version: "8.6.0", plugindownloadurl: "github://api.github.com/muhlba91/pulumi-proxmoxve" });
  });

  test("resolves the VM ID and host, and makes far fewer outputs than the generated class", async () => {
    const lean = await register(ProxmoxVm as VmClass);
    const generated = await register(VmLegacy as unknown as VmClass);
    const outputs = (r: pulumi.CustomResource) => Object.values(r).filter((v) => pulumi.Output.isInstance(v)).length;
    expect(await valueOf((lean.vm as ProxmoxVm).vmId)).toBe(args.vmId);
    expect(await valueOf((lean.vm as ProxmoxVm).nodeName)).toBe("pve");
    expect(outputs(generated.vm)).toBeGreaterThan(60);
    expect(outputs(lean.vm)).toBeLessThan(30);
  });

  test("refuses a VM without a host as the generated class does", () => {
    const { nodeName: _, ...withoutHost } = args;
    expect(() => new ProxmoxVm("x", withoutHost as VmLegacyArgs)).toThrow("Missing required property 'nodeName'");
  });
});
