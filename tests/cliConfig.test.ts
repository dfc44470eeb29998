import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { CONFIG_TABLE_END, CONFIG_TABLE_START, renderConfigTables } from "../config/keyDocs";
import { cliConfigErrors } from "./helpers/pulumiCli";
import { PROXMOX_CONFIG, ROOT, runProgram, toPulumiConfig } from "./helpers/program";

const read = (file: string) => YAML.parse(fs.readFileSync(path.join(ROOT, file), "utf8"));
const project = read("Pulumi.yaml");
const stackFiles = fs.readdirSync(ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f) && f !== "Pulumi.yaml");
/** A stack with only what a user must set: the cluster name, the nodes and the Proxmox connection. */
const minimalStack = {
  config: {
    "talos-proxmox:clusterName": "mini",
    "talos-proxmox:nodes": [{ name: "cp-1", ip: "192.168.1.21", role: "controlplane" }],
    "proxmoxve:endpoint": "https://pve.example.test:8006/",
    "proxmoxve:apiToken": { secure: "v1:AAAA" },
  },
};

describe("the Pulumi CLI starts the program (its config rules, modelled)", () => {
  test.each(stackFiles)("%s passes the CLI's checks", (file) => {
    expect(cliConfigErrors(project, read(file), file.split(".")[1])).toEqual([]);
  });

  test("a minimal stack (clusterName, nodes, Proxmox connection) passes the CLI's checks", () => {
    expect(cliConfigErrors(project, minimalStack, "mini")).toEqual([]);
  });

  test("and the program runs on it", async () => {
    const { "proxmoxve:apiToken": _token, ...plain } = minimalStack.config;
    const run = await runProgram({ ...toPulumiConfig(plain), ...PROXMOX_CONFIG });
    expect(run.mocks.ofType("proxmoxve:index/vmLegacy:VmLegacy")).toHaveLength(1);
  });

  test("the model catches what broke release 0.1: typed keys without a default are required", () => {
    const v01 = YAML.parse(fs.readFileSync(path.join(__dirname, "fixtures", "v0.1-Pulumi.yaml"), "utf8"));
    const [error] = cliConfigErrors(v01, minimalStack, "mini");
    expect(error).toMatch(/^Stack 'mini' is missing configuration values 'talosVersion', 'kubernetesVersion', 'vip',/);
  });

  test("the model checks declared types, secrets and namespaces", () => {
    const typed = { name: "p", config: { size: { type: "integer", default: 1 }, token: { type: "string", secret: true, default: "" } } };
    expect(cliConfigErrors(typed, { config: { "p:size": "8.5", "p:token": "plain", bare: 1 } }, "s")).toEqual([
      "could not parse bare as a configuration key (configuration keys should be of form `<namespace>:<name>`)",
      "Stack 's' with configuration key 'p:size' must be of type 'integer'",
      "Stack 's' with configuration key 'p:token' must be encrypted as it's secret",
    ]);
  });
});

describe("config documentation has one source", () => {
  test("the configuration reference's tables are the generated ones (npm run docs)", () => {
    const readme = fs.readFileSync(path.join(ROOT, "docs", "configuration.md"), "utf8");
    const section = readme.slice(readme.indexOf(CONFIG_TABLE_START) + CONFIG_TABLE_START.length, readme.indexOf(CONFIG_TABLE_END));
    expect(section.trim()).toBe(renderConfigTables().trim());
  });

  test("Pulumi.yaml declares no config key the CLI would make required", () => {
    expect(project.config).toBeUndefined();
  });
});
