import { unwrap } from "../testkit/mocks";
import { PROXMOX_CONFIG, ProgramRun, runProgram, stackConfig } from "./helpers/program";

/**
 * Everything the engine is told, recorded: each resource's request (parent, dependencies, options,
 * aliases, hooks) with its inputs, each invoke with its inputs, and the stack outputs. Start-up and
 * evaluation-time changes (docs/performance.md) must leave this unchanged; a change to what the
 * program registers updates the snapshot on purpose (`npx jest tests/registrations.test.ts -u`).
 */
function recorded(run: ProgramRun) {
  const byKey = <T>(entries: [string, T][]) => Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
  const resources = byKey(
    run.mocks.registrations.map((r) => {
      const key = `${r.type}::${r.name}`;
      return [key, { request: run.requests.get(key), provider: r.provider, inputs: r.inputs }];
    }),
  );
  // Invokes of one token are told apart by their inputs; their arrival order is not part of the contract.
  const invokes = run.mocks.calls
    .map((c) => ({ token: c.token, provider: c.provider, inputs: c.inputs }))
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return { resources, invokes, outputs: unwrap(run.values) };
}

// The `credentials` output counts days from today's date; the record is taken on a fixed date.
const RECORDED_ON = new Date("2026-12-02T12:00:00Z");
const NOT_DATE = ["hrtime", "nextTick", "performance", "queueMicrotask", "setImmediate", "clearImmediate", "setInterval", "clearInterval", "setTimeout", "clearTimeout"] as const;
beforeEach(() => jest.useFakeTimers({ now: RECORDED_ON, doNotFake: [...NOT_DATE] }));
afterEach(() => jest.useRealTimers());

describe.each([
  ["Pulumi.dev.yaml", "dev", {}],
  ["Pulumi.static.yaml (workers, static addresses)", "static", {}],
  ["Pulumi.dev.yaml with cni: cilium", "dev", { "talos-proxmox:cni": "cilium" }],
])("what %s registers", (_, stack, extra: Record<string, string>) => {
  test("resources, options, inputs, invokes and outputs are as recorded", async () => {
    const run = await runProgram({ ...stackConfig(stack), ...extra, ...PROXMOX_CONFIG }, { stack });
    expect(recorded(run)).toMatchSnapshot();
  });
});
