// The `backups` block through the program: defaults, what reaches the dynamic resources' inputs,
// the warning for `required: false`, and that previewing a risky change (the providers' check and
// diff, all the engine runs on preview) writes nothing.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { memberProvider, type MemberState } from "../resources/talosMember";
import { rebootsProvider, type RebootsState } from "../resources/talosReboots";
import { upgradeProvider, type UpgradeState } from "../resources/talosUpgrade";
import { validateConfig } from "../config/validate";
import { unwrap } from "../testkit/mocks";
import { PROXMOX_CONFIG, ProgramRun, toPulumiConfig } from "./helpers/program";
import { transition } from "./helpers/transition";
import { LAB_NODES } from "./helpers/configCases";

const BASE = { clusterName: "lab", vip: "10.0.20.10", vmIdBase: 2000, nodes: LAB_NODES };

function stack(values: Record<string, unknown>): Record<string, string> {
  const config = toPulumiConfig(values);
  return { ...Object.fromEntries(Object.entries(config).map(([k, v]) => [`talos-proxmox:${k}`, v])), ...PROXMOX_CONFIG };
}
const inputsOf = <T>(run: ProgramRun, name: string) => unwrap(run.mocks.ofType("pulumi-nodejs:dynamic:Resource").find((r) => r.name === name)!.inputs) as T;

test("defaults: backups/<stack>, keep 10, required; every day-two resource carries them", async () => {
  const { a } = await transition(stack(BASE), stack(BASE));
  const backups = inputsOf<UpgradeState>(a, "cluster-upgrade").backups!;
  expect(backups).toEqual({ dir: `backups/${backups.stack}`, stack: expect.any(String), keep: 10, required: true });
  expect(inputsOf<MemberState>(a, "cluster-member-cp-1").backups).toEqual(backups);
  expect(inputsOf<RebootsState>(a, "cluster-reboots").backups).toEqual(backups);
});

test("required: false is a warning; keep must be a whole number above 0", () => {
  const { warnings } = validateConfig({ ...BASE, backups: { required: false } });
  expect(warnings).toContainEqual(expect.stringMatching(/^backups\.required: false: an upgrade, rolled reboot or control-plane removal goes on when its etcd snapshot fails/));
  expect(() => validateConfig({ ...BASE, backups: { keep: 0 } })).toThrow(/backups\.keep: must be how many snapshots of the stack to keep, a whole number above 0, got number 0/);
  expect(() => validateConfig({ ...BASE, backups: { dirr: "x" } })).toThrow(/backups/);
});

test("previewing an upgrade and a control plane's removal writes no snapshot", async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "preview-")), "backups");
  // Four control planes, so that three remain (two are refused by the config itself).
  const nodes = [...LAB_NODES, { name: "cp-4", ip: "10.0.20.14", role: "controlplane" }];
  const before = { ...BASE, nodes, backups: { dir } };
  const after = { ...before, talosVersion: "v1.13.10", kubernetesVersion: "1.36.4", nodes: nodes.filter((n) => n.name !== "cp-3") };
  const { a, b } = await transition(stack(before), stack(after));
  const olds = inputsOf<UpgradeState>(a, "cluster-upgrade");
  const news = inputsOf<UpgradeState>(b, "cluster-upgrade");
  expect(news.backups?.dir).toBe(dir);
  await upgradeProvider.check!(olds, news);
  expect((await upgradeProvider.diff!("talos-upgrade", olds, news)).changes).toBe(true);
  const member = inputsOf<MemberState>(a, "cluster-member-cp-3");
  await memberProvider.diff!("member-cp-3", member, member);
  const reboots = inputsOf<RebootsState>(a, "cluster-reboots");
  await rebootsProvider.diff!("talos-reboots", reboots, inputsOf<RebootsState>(b, "cluster-reboots"));
  expect(fs.existsSync(dir)).toBe(false);
});

test("a changed backups setting is a change of the upgrade and reboots resources, so their state holds it", async () => {
  const { a, b } = await transition(stack({ ...BASE, backups: { keep: 10 } }), stack({ ...BASE, backups: { keep: 3 } }));
  expect((await upgradeProvider.diff!("talos-upgrade", inputsOf<UpgradeState>(a, "cluster-upgrade"), inputsOf<UpgradeState>(b, "cluster-upgrade"))).changes).toBe(true);
  expect((await rebootsProvider.diff!("talos-reboots", inputsOf<RebootsState>(a, "cluster-reboots"), inputsOf<RebootsState>(b, "cluster-reboots"))).changes).toBe(true);
});
