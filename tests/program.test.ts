import * as YAML from "yaml";
import { isoFileName } from "../components/talosImage";
import { FAKE_CREDENTIALS, FAKE_TALOSCONFIG, isSecretWrapper, unwrap } from "../testkit/mocks";
import type { CredentialLifetimes } from "../resources/talosCredentials";
import * as validation from "../config/validate";

// The validation as the program sees it, countable (compiled ES module exports are read-only
// bindings: a spy needs a plain object).
jest.mock("../config/validate", () => ({ __esModule: true, ...jest.requireActual("../config/validate") }));
import { PROXMOX_CONFIG, ProgramRun, runProgram, stackConfig } from "./helpers/program";

/** The whole program with Pulumi.dev.yaml, the walk-through's demo environment. */
describe("program with Pulumi.dev.yaml", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram({ ...stackConfig("dev"), ...PROXMOX_CONFIG });
  });
  const inputsOf = (type: string) => run.mocks.ofType(type).map((r) => unwrap(r.inputs) as Record<string, unknown>);

  test("three VMs with the walk-through's shape", () => {
    const vms = inputsOf("proxmoxve:index/vmLegacy:VmLegacy");
    expect(vms.map((v) => [v.name, v.vmId, v.nodeName])).toEqual([
      ["talos-demo-01", 1011, "pve"],
      ["talos-demo-02", 1012, "pve"],
      ["talos-demo-03", 1013, "pve"],
    ]);
    for (const vm of vms) {
      expect(vm).toMatchObject({
        cpu: { type: "host", cores: 8 },
        memory: { dedicated: 16384 },
        disks: [{ interface: "scsi0", size: 32 }],
        bootOrders: ["scsi0", "ide2"],
      });
    }
  });

  test("the image chain: schematic → URLs → one ISO → every VM's cdrom", () => {
    const schematicId = run.values.schematicId as string;
    const [download] = inputsOf("proxmoxve:download/file:File");
    expect(download).toMatchObject({ nodeName: "pve", url: run.values.isoUrl, contentType: "iso" });
    const isoId = `local:iso/${isoFileName("demo-cluster", "v1.13.9", schematicId)}`;
    for (const vm of inputsOf("proxmoxve:index/vmLegacy:VmLegacy")) {
      expect(vm.cdrom).toEqual({ fileId: isoId, interface: "ide2" });
    }
    expect(run.values.installerImage).toBe(`factory.talos.dev/metal-installer/${schematicId}:v1.13.9`);
  });

  test("every Proxmox resource goes through the explicit provider with the secret token", () => {
    const [provider] = run.mocks.ofType("pulumi:providers:proxmoxve");
    expect(unwrap(provider.inputs)).toMatchObject({ endpoint: "https://pve.example.test:8006/" });
    for (const type of ["proxmoxve:download/file:File", "proxmoxve:index/vmLegacy:VmLegacy"]) {
      for (const r of run.mocks.ofType(type)) expect(r.provider).toMatch(/::proxmoxve::proxmoxve-id$/);
    }
  });

  test("each control plane gets its own hostname and the VIP in its machine config", () => {
    const calls = run.mocks.callsOf("talos:machine/getConfiguration:getConfiguration");
    const perNode = calls.map((c) => {
      const docs = (unwrap(c.inputs.configPatches) as string[]).map((p) => YAML.parse(p));
      return [
        docs.find((d) => d.kind === "HostnameConfig").hostname,
        docs.find((d) => d.kind === "Layer2VIPConfig")?.name,
        c.inputs.machineType,
      ];
    });
    expect(perNode.sort()).toEqual([
      ["talos-demo-01", "10.0.10.10", "controlplane"],
      ["talos-demo-02", "10.0.10.10", "controlplane"],
      ["talos-demo-03", "10.0.10.10", "controlplane"],
    ]);
  });

  test("outputs: node table, endpoint, NGINX URL, image facts, credentials", () => {
    expect(run.values.nodes).toEqual(
      [1, 2, 3].map((i) => ({
        name: `talos-demo-0${i}`,
        role: "controlplane",
        ip: `10.0.10.1${i}`,
        mac: expect.stringMatching(/^[0-9A-F][26AE](:[0-9A-F]{2}){5}$/),
        vmId: 1010 + i,
        host: "pve",
      })),
    );
    expect(run.values.endpoint).toBe("https://10.0.10.10:6443");
    expect(run.values.nginxUrl).toBe("http://10.0.10.11:31080");
    expect(YAML.parse(run.values.kubeconfig as string).users[0].user["client-key-data"]).toBe(FAKE_CREDENTIALS.kubernetesClient.clientKey);
    expect(run.values.talosconfig).toBe(FAKE_TALOSCONFIG);
    expect((run.values.credentials as CredentialLifetimes).talosconfig.notAfter).toBe(FAKE_CREDENTIALS.notAfter.talosClient);
  });

  test("the credentials output is plain: dates and days left, nothing else", async () => {
    expect(await run.pulumi.isSecret(run.outputs.credentials)).toBe(false);
    const credentials = run.values.credentials as CredentialLifetimes;
    expect(Object.keys(credentials)).toEqual(["talosconfig", "kubeconfig", "osCa", "kubernetesCa", "etcdCa"]);
    for (const c of Object.values(credentials)) expect(Object.keys(c)).toEqual(["notAfter", "daysLeft"]);
  });

  test("the cluster's Kubernetes provider uses its kubeconfig (secret) and tolerates a gone cluster", () => {
    const [provider] = run.mocks.ofType("pulumi:providers:kubernetes");
    expect(isSecretWrapper(provider.inputs.kubeconfig)).toBe(true);
    expect(unwrap(provider.inputs.kubeconfig)).toContain("client-key-data: KUBE-CLIENT-KEY-VALUE");
    expect(String(provider.inputs.deleteUnreachable)).toBe("true");
  });

  test("the Kubernetes provider names its cluster, so a new endpoint or CA (setting vip) updates it instead of replacing it and everything on it", () => {
    expect(run.mocks.ofType("pulumi:providers:kubernetes").map((p) => [p.name, p.inputs.clusterIdentifier])).toEqual([["cluster-k8s", "talos-proxmox:cluster"]]);
  });

  test("kubeconfig and talosconfig are secret outputs", async () => {
    expect(await run.pulumi.isSecret(run.outputs.kubeconfig)).toBe(true);
    expect(await run.pulumi.isSecret(run.outputs.talosconfig)).toBe(true);
  });

  test("every resource is parented to its component", () => {
    const parentType = (key: string) => run.requests.get(key)?.parent.split("::")[2].split("$").pop();
    const expectations: [string, string][] = [
      ["proxmoxve:index/vmLegacy:VmLegacy::cluster-talos-demo-02", "talos-proxmox:vm:TalosVm"],
      ["proxmoxve:download/file:File::cluster-iso-pve", "talos-proxmox:image:TalosImage"],
      ["talos:imageFactory/schematic:Schematic::cluster-schematic", "talos-proxmox:image:TalosImage"],
      ["talos:machine/secrets:Secrets::cluster-secrets", "talos-proxmox:cluster:TalosCluster"],
      ["talos:machine/bootstrap:Bootstrap::cluster-bootstrap", "talos-proxmox:cluster:TalosCluster"],
      ["pulumi-nodejs:dynamic:Resource::cluster-credentials", "talos-proxmox:cluster:TalosCluster"],
      ["pulumi:index:Stash::cluster-health", "talos-proxmox:cluster:TalosCluster"],
      ["talos-proxmox:cluster:TalosCluster::cluster", "talos-proxmox:index:TalosProxmoxCluster"],
      ["talos-proxmox:vm:TalosVm::cluster-talos-demo-02", "talos-proxmox:index:TalosProxmoxCluster"],
      ["pulumi:providers:kubernetes::cluster-k8s", "talos-proxmox:index:TalosProxmoxCluster"],
      ["kubernetes:apps/v1:Deployment::nginx-deployment", "talos-proxmox:workload:NginxApp"],
    ];
    for (const [key, type] of expectations) expect([key, parentType(key)]).toEqual([key, type]);
  });

  test("dependsOn reaches the engine: apply after its VM, bootstrap after every apply", () => {
    const urnOf = (type: string, name: string) =>
      expect.stringMatching(new RegExp(`::${type.replace(/[$/]/g, "\\$&")}::${name}$`));
    const apply = run.requests.get("talos:machine/configurationApply:ConfigurationApply::cluster-apply-talos-demo-03");
    expect(apply?.dependencies).toContainEqual(
      urnOf("talos-proxmox:vm:TalosVm$proxmoxve:index/vmLegacy:VmLegacy", "cluster-talos-demo-03"),
    );
    const bootstrap = run.requests.get("talos:machine/bootstrap:Bootstrap::cluster-bootstrap");
    for (const n of ["01", "02", "03"]) {
      expect(bootstrap?.dependencies).toContainEqual(
        urnOf("talos-proxmox:cluster:TalosCluster$talos:machine/configurationApply:ConfigurationApply", `cluster-apply-talos-demo-${n}`),
      );
    }
  });

  test("the workload can be switched off", async () => {
    const off = await runProgram({
      ...stackConfig("dev"),
      ...PROXMOX_CONFIG,
      "talos-proxmox:workloadEnabled": "false",
    });
    expect(off.mocks.registrations.filter((r) => r.type.startsWith("kubernetes:"))).toEqual([]);
    // The cluster's own provider stays, for the user's workloads.
    expect(off.mocks.ofType("pulumi:providers:kubernetes").map((r) => r.name)).toEqual(["cluster-k8s"]);
    expect(off.values.nginxUrl).toBeUndefined();
  });
});

describe("the stack program and its config", () => {
  test("validates the stack config once and hands the component the checked spec", async () => {
    const validate = jest.spyOn(validation, "validateConfig");
    try {
      const run = await runProgram({ ...stackConfig("dev"), ...PROXMOX_CONFIG });
      expect(validate).toHaveBeenCalledTimes(1);
      const spec = validate.mock.results[0].value.spec as validation.ValidatedConfig["spec"];
      expect(run.mocks.ofType("proxmoxve:index/vmLegacy:VmLegacy").map((r) => (unwrap(r.inputs) as { name: string }).name)).toEqual(spec.nodes.map((n) => n.name));
    } finally {
      validate.mockRestore();
    }
  });
});
