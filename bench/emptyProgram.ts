import * as pulumi from "@pulumi/pulumi";
import { RecordingMocks, acknowledgeResourceHooks, settle } from "../testkit/mocks";

/**
 * The baseline for the evaluation ratio: an empty Pulumi program (one stack output, no resource)
 * under the same mock runtime, mocks and settle as bench/harness.ts, without loading our program.
 */
export async function startEmptyProgram(): Promise<RecordingMocks> {
  const mocks = new RecordingMocks({});
  await pulumi.runtime.setMocks(mocks, "talos-proxmox", "bench", false);
  acknowledgeResourceHooks();
  pulumi.output("empty");
  await settle();
  return mocks;
}
