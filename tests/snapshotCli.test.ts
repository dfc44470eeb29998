// `npm run snapshot -- <stack>`: a snapshot now, from the stack's talosconfig (Pulumi CLI output, or
// --talosconfig when the CLI is absent), into the stack's backups directory, over the fake apid.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs, snapshotNow, type PulumiRunner } from "../cli/snapshot";
import { fakeSnapshotBytes, startFakeTalos, type FakeTalos } from "./helpers/fakeTalos";
import { createTestPki, talosconfigYaml, type TestPki } from "./helpers/talosPki";
import { fakeControlPlane } from "./helpers/fakeCluster";

const AT = new Date(Date.UTC(2026, 11, 2, 15, 0, 0));
let pki: TestPki;
let talos: FakeTalos;
let project: string;
const noPulumi: PulumiRunner = () => undefined;

beforeAll(async () => {
  pki = await createTestPki();
});
beforeEach(async () => {
  talos = await startFakeTalos(pki, [fakeControlPlane(1, { etcdUnhealthy: true }), fakeControlPlane(2), fakeControlPlane(3)]);
  project = fs.mkdtempSync(path.join(os.tmpdir(), "snapshot-cli-"));
  fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: lab\nruntime: nodejs\n");
  fs.writeFileSync(path.join(project, "Pulumi.dev.yaml"), "config:\n  talos-proxmox:clusterName: lab\n  talos-proxmox:backups:\n    keep: 3\n");
});
afterEach(async () => talos.stop());

const talosconfig = () => talosconfigYaml(pki, [talos.address], ["192.0.2.11", "192.0.2.12", "192.0.2.13"]);

test("with --talosconfig: from the first control plane with a healthy etcd, into backups/<stack>/", async () => {
  const file = path.join(project, "talosconfig");
  fs.writeFileSync(file, talosconfig());
  const saved = await snapshotNow({ ...parseArgs(["dev", "--talosconfig", file], project), pulumi: noPulumi, now: () => AT });
  expect(saved).toMatchObject({ from: "192.0.2.12", path: path.join(project, "backups", "dev", "dev-20261202T150000Z-manual.db") });
  expect(fs.readFileSync(saved.path).equals(fakeSnapshotBytes("cp-2"))).toBe(true);
  expect(talos.callsTo("MachineService/EtcdSnapshot")).toEqual(["cp-2"]);
});

test("without --talosconfig the stack output is read through the Pulumi CLI", async () => {
  const calls: string[][] = [];
  const pulumi: PulumiRunner = (args) => (calls.push(args), { status: 0, stdout: talosconfig(), stderr: "" });
  await snapshotNow({ cwd: project, stack: "dev", pulumi, now: () => AT });
  expect(calls).toEqual([["stack", "output", "--show-secrets", "talosconfig", "--stack", "dev"]]);
});

test("no Pulumi CLI and no --talosconfig: one line saying what to pass", async () => {
  await expect(snapshotNow({ cwd: project, stack: "dev", pulumi: noPulumi })).rejects.toThrow(/^the Pulumi CLI is not on PATH, so the stack's talosconfig can't be read: pass --talosconfig <file>/);
});

test("a failing Pulumi CLI, an unknown stack and a bad flag are refused in one line", async () => {
  const failing: PulumiRunner = () => ({ status: 255, stdout: "", stderr: "error: no stack named 'dev' found\n" });
  await expect(snapshotNow({ cwd: project, stack: "dev", pulumi: failing })).rejects.toThrow("pulumi stack output talosconfig --stack dev failed: error: no stack named 'dev' found (or pass --talosconfig <file>)");
  await expect(snapshotNow({ cwd: project, stack: "prod", pulumi: noPulumi })).rejects.toThrow(/^no stack "prod"/);
  expect(() => parseArgs(["dev", "--talosconfg", "x"], project)).toThrow(/^unknown option --talosconfg; usage: talos-proxmox-snapshot <stack>/);
});
