import { RecordingMocks } from "../testkit/mocks";
import { REJECTED_CONFIGS, base } from "./helpers/configCases";
import { PROXMOX_CONFIG, runProgram, toPulumiConfig } from "./helpers/program";

/**
 * Bad config stops the program before it registers a resource or calls a provider. Every
 * rejection is tested on validateConfig itself (config.test.ts); here a few show the program
 * stops on them, one per kind of rule (schema, node entry, cross-field, a patch, a merged config).
 */
const SAMPLE = [
  "missing clusterName",
  "duplicate IPs",
  "VIP equal to a node IP",
  "unknown top-level key",
  "custom CNI without URLs",
  "patch with an unknown field",
  "unreadable patch file",
  "node patch of the wrong type",
  "DNS servers both as network.nameservers and in a patch",
];

describe("the program refuses bad config before anything exists", () => {
  test.each(REJECTED_CONFIGS.filter(([label]) => SAMPLE.includes(label)))("%s", async (_label, raw, message) => {
    const mocks = new RecordingMocks();
    const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
    const config = { ...prefixed(toPulumiConfig(defined)), ...PROXMOX_CONFIG };
    await expect(runProgram(config, { mocks })).rejects.toThrow(new RegExp(`\\n {2}- ${message.source.slice(1)}`));
    expect(mocks.registrations).toEqual([]);
    expect(mocks.calls).toEqual([]);
  });

  test("missing Proxmox endpoint and credentials are reported with the config problems", async () => {
    const mocks = new RecordingMocks();
    const config = prefixed(toPulumiConfig({ ...base(), clusterName: "Bad" }));
    const error = await runProgram(config, { mocks }).catch((e: Error) => e);
    expect(String(error)).toMatch(/- clusterName: must be a DNS label/);
    expect(String(error)).toMatch(/- proxmoxve:endpoint: is required: the Proxmox API URL/);
    expect(String(error)).toMatch(/- proxmoxve:apiToken: is required: .*pulumi config set --secret proxmoxve:apiToken/);
    expect(mocks.registrations).toEqual([]);
  });
});

function prefixed(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [`talos-proxmox:${k}`, v]));
}
