import { foreignNamespaceProblems } from "../stack/loadConfig";
import { validateConfig } from "../config/validate";
import { base, node } from "./helpers/configCases";
import { runLikeLanguageHost } from "./helpers/languageHost";
import { PROXMOX_CONFIG, ROOT, SECRET_KEYS, stackConfig } from "./helpers/program";

/**
 * What `pulumi up` prints when the program refuses its config: the Node.js language host prints a
 * RunError's message alone and any other error as "failed with an unhandled exception" with its
 * stack (pulumi/pulumi v3.248.0 sdk/nodejs/cmd/run/run.ts uncaughtHandler). Run through that code.
 */
function printed(config: Record<string, string>): string {
  return runLikeLanguageHost(ROOT, { project: "talos-proxmox", stack: "dev", config: { ...stackConfig("dev"), ...PROXMOX_CONFIG, ...config }, secretKeys: SECRET_KEYS }).stderr;
}

const NO_STACK = /^\s+at |unhandled exception/m;

describe("config errors as the CLI prints them", () => {
  test("a bad value: the message with every problem, no stack trace", () => {
    const out = printed({ "talos-proxmox:clusterName": "Bad_Name" });
    expect(out).toMatch(/^error: \[runtime\] Invalid stack configuration \(namespace talos-proxmox\), 1 problem\(s\):\n {2}- clusterName: must be a DNS label/m);
    expect(out).not.toMatch(NO_STACK);
  });

  test("keys under a misspelt namespace are named, with the namespace to use", () => {
    const config = Object.fromEntries(Object.entries(stackConfig("dev")).map(([k, v]) => [k.replace(/^talos-proxmox:/, "talos_proxmox:"), v]));
    const out = runLikeLanguageHost(ROOT, { project: "talos-proxmox", stack: "dev", config: { ...config, ...PROXMOX_CONFIG }, secretKeys: SECRET_KEYS }).stderr;
    expect(out).toMatch(/- talos_proxmox:nodes: namespace talos_proxmox is not this program's; its keys are talos-proxmox:<key> \(write talos-proxmox:nodes in Pulumi.<stack>.yaml/);
    expect(out).not.toMatch(NO_STACK);
  });
});

describe("refusals named by key", () => {
  test("a misspelt nodes key: our two lines, no schema library text", () => {
    const { nodes, ...rest } = base();
    const error = (() => {
      try {
        validateConfig({ ...rest, node: nodes });
      } catch (e) {
        return e as { problems: string[] };
      }
      throw new Error("accepted");
    })();
    expect(error.problems).toEqual([
      expect.stringMatching(/^node: unknown key; did you mean nodes\?/),
      "nodes: is required: one entry per VM with name, ip and role (controlplane or worker)",
    ]);
  });

  test("foreign namespaces: only those that look like ours", () => {
    expect(
      foreignNamespaceProblems({
        "talosproxmox:vip": "10.0.10.10",
        "myproject:nodes": "[]",
        "proxmoxve:endpoint": "https://pve:8006/",
        "kubernetes:context": "x",
        "other:thing": "1",
        "talos-proxmox:vip": "10.0.10.10",
      }).map((p) => p.split(":").slice(0, 2).join(":")),
    ).toEqual(["talosproxmox:vip", "myproject:nodes"]);
  });

  test("a control plane outside the VIP's subnet is accepted once network.cidr declares a larger one", () => {
    const raw = { ...base(), vip: "10.0.8.10", nodes: [node(1, { ip: "10.0.8.11" }), node(2, { ip: "10.0.9.12" }), node(3, { ip: "10.0.10.13" })], network: { cidr: "10.0.8.0/22" } };
    expect(validateConfig(raw).spec.nodes.map((n) => n.ip)).toEqual(["10.0.8.11", "10.0.9.12", "10.0.10.13"]);
  });
});
