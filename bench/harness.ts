import * as pulumi from "@pulumi/pulumi";
import { main } from "../program";
import { RecordingMocks, acknowledgeResourceHooks, settle } from "../testkit/mocks";

/** A cluster of `nodeCount` nodes: 3 control planes, the rest workers, over 3 Proxmox hosts. */
export function benchConfig(nodeCount: number): Record<string, string> {
  const nodes = Array.from({ length: nodeCount }, (_, i) => ({
    name: `node-${i + 1}`,
    ip: `10.20.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    role: i < Math.min(3, nodeCount) ? "controlplane" : "worker",
    host: `pve${(i % 3) + 1}`,
  }));
  return {
    "talos-proxmox:clusterName": "bench",
    "talos-proxmox:vip": "10.20.255.1",
    // The nodes and the VIP share one layer-2 subnet (config/rules.ts); a /16 holds any bench size.
    "talos-proxmox:network": JSON.stringify({ cidr: "10.20.0.0/16" }),
    "talos-proxmox:nodes": JSON.stringify(nodes),
    "proxmoxve:endpoint": "https://pve.example.test:8006/",
    "proxmoxve:apiToken": "root@pam!bench=11111111-2222-3333-4444-555555555555",
  };
}

/**
 * Runs the stack program once under the mock runtime (mocks delay the given resource types and invoke
 * tokens by their latency) and resolves when every registration and invoke has finished.
 */
export async function startProgram(nodeCount: number, latencyMs: Record<string, number>): Promise<RecordingMocks> {
  const mocks = new RecordingMocks(latencyMs);
  await pulumi.runtime.setMocks(mocks, "talos-proxmox", "bench", false);
  pulumi.runtime.setAllConfig(benchConfig(nodeCount), ["proxmoxve:apiToken"]);
  acknowledgeResourceHooks();
  main();
  await settle();
  return mocks;
}
